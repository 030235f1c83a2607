/**
 * A real `docker-credential-test` executable (a node script) in a temp bin dir, speaking the
 * docker-credential-helpers protocol against a state directory: `store` saves, `get` returns or
 * says "credentials not found", `erase` deletes. Every call is logged. Hosts named
 * `broken.example` make it fail like a locked keychain.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface HelperFixture {
  /** Root temp dir (contains bin/, state/, home/). */
  readonly dir: string;
  /** Environment with the helper first on PATH and HOME inside the fixture. */
  readonly env: NodeJS.ProcessEnv;
  /** The docker config dir to use (DOCKER_CONFIG). */
  readonly configDir: string;
  /** Pre-seeds a stored secret. */
  seed(server: string, username: string, secret: string): Promise<void>;
  /** `action server` lines, in call order. */
  calls(): Promise<string[]>;
  remove(): Promise<void>;
}

const SCRIPT = `#!${process.execPath}
const fs = require('fs');
const path = require('path');
const state = process.env.TSBUILD_TEST_HELPER_STATE;
const action = process.argv[2];
let input = '';
process.stdin.on('data', (c) => (input += c));
process.stdin.on('end', () => {
  const server = action === 'store' ? JSON.parse(input).ServerURL : input.trim();
  fs.appendFileSync(path.join(state, 'calls.log'), action + ' ' + server + '\\n');
  const file = path.join(state, encodeURIComponent(server) + '.json');
  if (server === 'broken.example') {
    process.stderr.write('error getting credentials - err: exit status 1, out: keychain is locked\\n');
    process.exit(1);
  }
  if (action === 'store') {
    fs.writeFileSync(file, input);
    return;
  }
  if (!fs.existsSync(file)) {
    process.stdout.write('credentials not found in native keychain\\n');
    process.exit(1);
  }
  if (action === 'get') process.stdout.write(fs.readFileSync(file, 'utf8'));
  else if (action === 'erase') fs.unlinkSync(file);
  else process.exit(2);
});
`;

export async function makeHelperFixture(): Promise<HelperFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'tsbuild-credhelper-'));
  const bin = join(dir, 'bin');
  const state = join(dir, 'state');
  const home = join(dir, 'home');
  const configDir = join(dir, 'docker-config');
  await Promise.all([mkdir(bin), mkdir(state), mkdir(home)]);
  const helper = join(bin, 'docker-credential-test');
  await writeFile(helper, SCRIPT);
  await chmod(helper, 0o755);
  await writeFile(join(state, 'calls.log'), '');
  const env: NodeJS.ProcessEnv = { PATH: `${bin}:${process.env['PATH'] ?? '/usr/bin:/bin'}`, HOME: home, DOCKER_CONFIG: configDir, TSBUILD_TEST_HELPER_STATE: state };
  return {
    dir,
    env,
    configDir,
    seed: (server, username, secret) => writeFile(join(state, `${encodeURIComponent(server)}.json`), JSON.stringify({ ServerURL: server, Username: username, Secret: secret })),
    calls: async () => (await readFile(join(state, 'calls.log'), 'utf8')).split('\n').filter(Boolean),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
