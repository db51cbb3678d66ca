// `npm run dev` only: the apps run from tsc's output (dist/dev) instead of a webpack bundle, so `@hookhub/<lib>` has to
// resolve at run time the way tsconfig's `paths` resolve it at type-check time: to the compiled lib's index.
const Module = require('node:module');
const path = require('node:path');

const LIBS = path.join(__dirname, '..', 'dist', 'dev', 'libs');
const resolve = Module._resolveFilename;

Module._resolveFilename = function resolveHookhub(request, ...rest) {
  const lib = /^@hookhub\/([a-z-]+)$/.exec(request);
  return resolve.call(this, lib ? path.join(LIBS, lib[1], 'src') : request, ...rest);
};
