import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { envVariablesOf } from '@hookhub/platform';
import { DispatcherConfig } from './dispatcher/src/dispatcher.config';
import { ProviderIngestConfig } from './provider-ingest/src/provider-ingest.config';
import { SubscriptionsConfig } from './subscriptions/src/subscriptions.config';

/**
 * The README's configuration table is a promise: every variable of every app's
 * configuration class is listed with the default the class really has, and the
 * table lists nothing the apps do not read.
 */

const CLASSES = [SubscriptionsConfig, DispatcherConfig, ProviderIngestConfig];

interface Row {
  names: string[];
  defaults: string[];
}

/** The rows of the table after `<!-- readme-test: configuration -->`; a cell `A` / `B` names two variables, their defaults likewise. */
function readmeTable(): Row[] {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const start = readme.indexOf('<!-- readme-test: configuration -->');
  if (start < 0) throw new Error('README.md has no configuration table marker');
  const lines = readme.slice(start).split('\n').slice(1);
  const table = lines.slice(
    0,
    lines.findIndex((line, i) => i > 0 && !line.startsWith('|')),
  );
  return table
    .slice(2)
    .map((line) => line.split(' | ').map((cell) => cell.replace(/^\| ?| ?\|$/g, '').trim()))
    .filter(([variable]) => variable.startsWith('`'))
    .map(([variable, defaults]) => ({
      names: variable.split(' / ').map((name) => name.replace(/`/g, '')),
      defaults: defaults.split(' / ').map((cell) => /^`([^`]*)`/.exec(cell)?.[1] ?? cell),
    }));
}

/** Each variable's default as the README writes it: the value in backticks, or "unset" / "— (required…)". */
function documentedDefaults(): Map<string, string> {
  const documented = new Map<string, string>();
  for (const row of readmeTable()) {
    if (row.defaults.length !== row.names.length && row.defaults.length !== 1) throw new Error(`README row ${row.names.join(' / ')}: one default per variable`);
    row.names.forEach((name, i) => documented.set(name, row.defaults[row.defaults.length === 1 ? 0 : i]));
  }
  return documented;
}

/** Every variable any app reads, with the default its class gives it (undefined: unset or required). */
function classDefaults(): Map<string, unknown> {
  const defaults = new Map<string, unknown>();
  for (const cls of CLASSES) {
    const instance = new cls() as unknown as Record<string, unknown>;
    for (const name of envVariablesOf(cls).keys()) defaults.set(name, instance[name]);
  }
  return defaults;
}

describe('README configuration table', () => {
  const documented = documentedDefaults();
  const actual = classDefaults();

  it('lists every variable of every app configuration class', () => {
    expect([...actual.keys()].filter((name) => !documented.has(name)).sort()).toEqual([]);
  });

  it('lists no variable that no app reads', () => {
    expect([...documented.keys()].filter((name) => !actual.has(name)).sort()).toEqual([]);
  });

  it("states each variable's default as its class declares it", () => {
    const wrong = [...actual.entries()]
      .filter(([name]) => documented.has(name))
      .map(([name, value]) => ({ name, class: value === undefined ? 'unset or required' : String(value), readme: documented.get(name) }))
      .filter((row) => (row.class === 'unset or required' ? !/^(unset|— \(required)/.test(row.readme ?? '') : row.readme !== row.class));
    expect(wrong).toEqual([]);
  });

  it('has rows to check (the marker is before the table)', () => {
    expect(documented.size).toBeGreaterThan(40);
  });
});
