#!/usr/bin/env node
'use strict';
require('../dist/cli/tokenenv.cjs').runFromProcess();
