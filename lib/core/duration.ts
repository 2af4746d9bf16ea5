// Durations for people: "45 s", "14 min", "3 h 5 min", "2 d 4 h".
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return `${s} s`;
  const minutes = Math.round(s / 60);
  if (minutes < 90) return `${minutes} min`;
  const hours = Math.floor(s / 3600);
  if (hours < 48) {
    const rest = Math.floor((s - hours * 3600) / 60);
    return rest ? `${hours} h ${rest} min` : `${hours} h`;
  }
  const days = Math.floor(s / 86400);
  const restHours = Math.floor((s - days * 86400) / 3600);
  return restHours ? `${days} d ${restHours} h` : `${days} d`;
}

/** "in 14 min" or "3 h ago", relative to now. */
export function formatRelative(at: number, now: number): string {
  return at >= now ? `in ${formatDuration(at - now)}` : `${formatDuration(now - at)} ago`;
}
