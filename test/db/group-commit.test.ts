import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupCommitter } from '../../src/db/group-commit.ts';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('concurrent submissions share commits, and each resolves only after its own commit', async () => {
  const writes: number[][] = [];
  const committed = new Set<number>();
  const committer = new GroupCommitter<number>({
    async write(items) {
      writes.push(items);
      await tick(10);
      for (const i of items) committed.add(i);
    },
  });
  await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      committer.submit([i]).then(() => assert.ok(committed.has(i), `item ${i} resolved before its commit`)),
    ),
  );
  assert.ok(writes.length < 10, `${writes.length} commits for 50 submissions`);
  assert.equal(writes.flat().length, 50);
});

test('a submission that cannot be written fails alone; its neighbours are written', async () => {
  const committer = new GroupCommitter<string>({
    async write(items) {
      await tick(5);
      if (items.includes('poison')) throw new Error('refused by the database');
    },
  });
  const results = await Promise.allSettled(['a', 'b', 'poison', 'c'].map((item) => committer.submit([item])));
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
});

test('at most `concurrency` batches are written at the same time', async () => {
  let running = 0;
  let most = 0;
  const committer = new GroupCommitter<number>({
    maxBatch: 2,
    concurrency: 3,
    async write() {
      running += 1;
      most = Math.max(most, running);
      await tick(10);
      running -= 1;
    },
  });
  await Promise.all(Array.from({ length: 30 }, (_, i) => committer.submit([i])));
  assert.equal(most, 3);
});
