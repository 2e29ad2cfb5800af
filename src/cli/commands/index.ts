// Every CLI command, in the order --help lists them; one file per command.
import type { CliCommand } from '../command';
import { activations } from './activations';
import { analyze } from './analyze';
import { buildDemo } from './build-demo';
import { correlate } from './correlate';
import { corpus } from './corpus';
import { dataset } from './dataset';
import { demo } from './demo';
import { evaluate } from './eval';
import { fertility } from './fertility';
import { finetune } from './finetune';
import { languages } from './languages';
import { makeRandomModel } from './make-random-model';
import { makeRandomSaes } from './make-random-saes';
import { model } from './model';
import { phrases } from './phrases';
import { serve } from './serve';
import { study } from './study';
import { sweep } from './sweep';
import { system } from './system';
import { translate } from './translate';

export const COMMANDS: CliCommand[] = [demo, buildDemo, fertility, languages, corpus, dataset, system, model, activations, analyze, finetune, evaluate, correlate, study, sweep, translate, phrases, makeRandomSaes, makeRandomModel, serve];
