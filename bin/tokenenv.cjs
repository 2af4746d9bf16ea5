#!/usr/bin/env node
'use strict';
require('../dist/cli/load.cjs')('tokenenv.cjs').runFromProcess();
