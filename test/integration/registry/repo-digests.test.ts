/**
 * RepoDigests as docker keeps them, through the real CLI and a real registry: a push and a pull
 * record `REPO@sha256:<manifest digest>` for the image (by ID, one per repository), `inspect`
 * shows them and `images --digests` has a DIGEST column; a never-pushed image has none; a retag
 * keeps them; removing a repository's last tag drops that repository's digest; removing the
 * image drops all. Each CLI call is a new process, so what is shown was persisted.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { describeIf } from '../../helpers/skip.js';
import { canRun, cannotRunWhy, RegistryWorld } from './world.js';

interface Inspect { Id: string; RepoTags: string[]; RepoDigests: string[] }

describeIf(canRun, cannotRunWhy, 'RepoDigests after push and pull', () => {
  let w: RegistryWorld;

  beforeAll(async () => {
    w = await RegistryWorld.create('repodigests');
  }, 120_000);

  afterAll(async () => {
    expect(await w.mounts()).toEqual([]);
    await w.cleanup();
  }, 60_000);

  const inspect = async (root: string, ref: string): Promise<Inspect> => {
    const list = JSON.parse((await w.ok(root, ['inspect', ref])).stdout) as Inspect[];
    return list[0] as Inspect;
  };
  /** `images --digests` rows as [repository, tag, digest]. */
  const digestRows = async (root: string): Promise<string[][]> => {
    const lines = (await w.ok(root, ['images', '--digests'])).stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID\s+CREATED\s+SIZE$/);
    return lines.slice(1).map((l) => l.split(/\s{2,}/).slice(0, 3)).sort((a, b) => a.join().localeCompare(b.join()));
  };
  const pushedDigest = (stdout: string): string => {
    const m = /digest: (sha256:[0-9a-f]{64}) size: \d+/.exec(stdout);
    expect(m).not.toBeNull();
    return (m as RegExpExecArray)[1] as string;
  };

  test('push records the digest by repository; retag keeps it; untagging a repository drops its digest', async () => {
    const one = `${w.host}/app/one:1`;
    const two = `${w.host}/app/two:2`;
    await w.importBusybox('a', one);
    // Never pushed: no RepoDigests, DIGEST <none>.
    expect((await inspect('a', one)).RepoDigests).toEqual([]);
    expect(await digestRows('a')).toEqual([[`${w.host}/app/one`, '1', '<none>']]);

    const d1 = pushedDigest((await w.ok('a', ['push', one])).stdout);
    expect((await inspect('a', one)).RepoDigests).toEqual([`${w.host}/app/one@${d1}`]);
    expect(await digestRows('a')).toEqual([[`${w.host}/app/one`, '1', d1]]);
    // JSON rows carry the same digest.
    expect(JSON.parse((await w.ok('a', ['images', '--format', 'json'])).stdout.trim()) as { Digest: string }).toMatchObject({ Digest: d1 });

    // A second tag in another repository: the digest belongs to the image, one per repository.
    await w.ok('a', ['tag', one, two]);
    const tagged = await inspect('a', two);
    expect(tagged.RepoTags.sort()).toEqual([`${w.host}/app/one:1`, `${w.host}/app/two:2`]);
    expect(tagged.RepoDigests).toEqual([`${w.host}/app/one@${d1}`]);
    expect(await digestRows('a')).toEqual([[`${w.host}/app/one`, '1', d1], [`${w.host}/app/two`, '2', '<none>']]);

    const d2 = pushedDigest((await w.ok('a', ['push', two])).stdout);
    expect((await inspect('a', two)).RepoDigests).toEqual([`${w.host}/app/one@${d1}`, `${w.host}/app/two@${d2}`]);

    // rmi of app/one's only tag: the image stays (app/two names it); app/one's digest goes with the tag.
    const rmi = await w.ok('a', ['rmi', one]);
    expect(rmi.stdout).toContain(`Untagged: ${w.host}/app/one:1\n`);
    expect(rmi.stdout).toContain(`Untagged: ${w.host}/app/one@${d1}\n`);
    expect((await inspect('a', two)).RepoDigests).toEqual([`${w.host}/app/two@${d2}`]);

    // Removing the image drops the rest: a re-import of the same image starts without digests.
    await w.ok('a', ['rmi', two]);
    await w.importBusybox('a', two);
    expect((await inspect('a', two)).RepoDigests).toEqual([]);
  }, 180_000);

  test('pull records the pulled digest; a tag moved away leaves the digest on the old, now untagged image', async () => {
    const ref = `${w.host}/app/pulled:1`;
    await w.importBusybox('seed', ref);
    const pushed = pushedDigest((await w.ok('seed', ['push', ref])).stdout);

    const pull = await w.ok('b', ['pull', ref]);
    expect(pull.stdout).toContain(`Digest: ${pushed}\n`);
    const before = await inspect('b', ref);
    expect(before.RepoDigests).toEqual([`${w.host}/app/pulled@${pushed}`]);
    expect(await digestRows('b')).toEqual([[`${w.host}/app/pulled`, '1', pushed]]);

    // A build moves the tag: the pulled image keeps its RepoDigest and shows as `REPO <none> DIGEST`.
    const ctx = await w.context('moved', `FROM ${ref}\nRUN echo moved > /moved\n`);
    await w.ok('b', ['build', '--progress', 'quiet', '-t', ref, ctx]);
    expect((await inspect('b', ref)).RepoDigests).toEqual([]);
    expect((await inspect('b', before.Id)).RepoDigests).toEqual([`${w.host}/app/pulled@${pushed}`]);
    const rows = await digestRows('b');
    expect(rows).toContainEqual([`${w.host}/app/pulled`, '<none>', pushed]);
    expect(rows).toContainEqual([`${w.host}/app/pulled`, '1', '<none>']);
    // Such an image is dangling to docker (no tags), so `images -f dangling=true` lists it.
    const dangling = (await w.ok('b', ['images', '-q', '--no-trunc', '--filter', 'dangling=true'])).stdout;
    expect(dangling.trim().split('\n')).toEqual([before.Id]);
  }, 180_000);
});
