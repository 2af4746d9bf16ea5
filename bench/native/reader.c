/* The native floor for token discovery: what any reader of a token file must do, in C.
 * open, a bounded read (64 KiB + 1 byte: one more than a token may be), close, trim C isspace on
 * both sides, check the RFC 6750 b64token syntax; CALLS times in one process, like the JS
 * benchmark. Prints nanoseconds per call; exits 1 if the file does not hold a valid token.
 * Usage: reader FILE CALLS */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define LIMIT (64 * 1024 + 1)

static char buf[LIMIT];

/* 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
static int b64token(const char *s, size_t len) {
  size_t i = 0;
  while (i < len) {
    unsigned char c = (unsigned char)s[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
          c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/')) break;
    i++;
  }
  if (i == 0) return 0;
  while (i < len && s[i] == '=') i++;
  return i == len;
}

/* Length of the valid token in `path`, 0 if empty, -1 on an error, too large or invalid. */
static long read_token(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t n = 0;
  ssize_t r = 0;
  while (n < LIMIT && (r = read(fd, buf + n, LIMIT - n)) > 0) n += (size_t)r;
  close(fd);
  if (r < 0 || n == LIMIT) return -1;
  size_t a = 0, b = n;
  while (a < b && isspace((unsigned char)buf[a])) a++;
  while (b > a && isspace((unsigned char)buf[b - 1])) b--;
  if (a == b) return 0;
  return b64token(buf + a, b - a) ? (long)(b - a) : -1;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: reader FILE CALLS\n");
    return 2;
  }
  long calls = atol(argv[2]);
  long sum = 0;
  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (long i = 0; i < calls; i++) {
    long len = read_token(argv[1]);
    if (len <= 0) {
      fprintf(stderr, "reader: %s holds no valid token\n", argv[1]);
      return 1;
    }
    sum += len;
  }
  clock_gettime(CLOCK_MONOTONIC, &end);
  double ns = (double)(end.tv_sec - start.tv_sec) * 1e9 + (double)(end.tv_nsec - start.tv_nsec);
  printf("%.1f %ld\n", ns / (double)calls, sum / calls);
  return 0;
}
