// What the bundle's one use of `assert` needs (signal-exit, through proper-lockfile, checks its
// callback): node:assert itself costs ~2.5 ms to load at every refresh.
'use strict';
exports.equal = (actual, expected, message) => {
  // eslint-disable-next-line eqeqeq -- assert.equal is ==
  if (actual != expected) throw new Error(message);
};
