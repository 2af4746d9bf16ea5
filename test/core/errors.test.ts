// Errors carry stable codes, and are recognised across copies of the module (the CLI bundles, a
// second installed copy of the package).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as errors from '../../lib/core/errors.js';
import { exitCodeOf } from '../../lib/cli/exit-codes.js';
import { repoRoot } from '../support/cli.js';

describe('errors', () => {
  it('every class has its own code, and exit codes follow the codes', () => {
    const cases: [errors.TokenenvError, errors.ErrorCode, number][] = [
      [new errors.UsageError('x'), 'ERR_USAGE', 2],
      [new errors.NoTokenFoundError([]), 'ERR_NO_TOKEN', 3],
      [new errors.NoTokenFileError('x'), 'ERR_NO_TOKEN_FILE', 3],
      [new errors.InvalidTokenError('BEARER_TOKEN', 'NUL byte at offset 3'), 'ERR_INVALID_TOKEN', 4],
      [new errors.TokenFileError('/p', 'unreadable'), 'ERR_TOKEN_FILE', 4],
      [new errors.UnsafeFileError('/p', 'planted'), 'ERR_UNSAFE_TOKEN_FILE', 4],
      [new errors.TokenTooLargeError('/p', 65536), 'ERR_TOKEN_TOO_LARGE', 4],
      [new errors.TokenExpiredError('x'), 'ERR_TOKEN_EXPIRED', 5],
      [new errors.RefreshFailedError('x'), 'ERR_REFRESH_FAILED', 1],
      [new errors.TokenenvError('x'), 'ERR_TOKENENV', 1],
    ];
    for (const [error, code, exit] of cases) {
      assert.equal(error.code, code, error.name);
      assert.equal(exitCodeOf(error), exit, error.name);
      assert.ok(errors.isTokenenvError(error));
    }
    assert.ok(new errors.UnsafeFileError('/p', 'x') instanceof errors.TokenFileError);
    assert.equal(exitCodeOf(new Error('plain')), 1);
  });

  it('keeps the cause', () => {
    const cause = new Error('ECONNREFUSED');
    assert.equal(new errors.TokenenvError('issuer unreachable', { cause }).cause, cause);
  });

  it('is recognised across copies of the module, by brand, not by class identity', () => {
    const require = createRequire(import.meta.url);
    const bundle = require(join(repoRoot, 'dist', 'cli', 'tokenenv.cjs')) as { TOKENENV_MODULES: Record<string, typeof errors> };
    const other = bundle.TOKENENV_MODULES['lib/core/errors.ts']!;
    const foreign = new other.UnsafeFileError('/p', 'planted');
    assert.ok(!(foreign instanceof errors.TokenenvError), 'a separate copy of the class');
    assert.ok(errors.isTokenenvError(foreign));
    assert.ok(errors.hasCode(foreign, 'ERR_UNSAFE_TOKEN_FILE'));
    assert.ok(!errors.hasCode(foreign, 'ERR_TOKEN_FILE'));
    assert.ok(!errors.isTokenenvError({ code: 'ERR_USAGE', exitCode: 2, message: 'shaped like one' }));
  });
});
