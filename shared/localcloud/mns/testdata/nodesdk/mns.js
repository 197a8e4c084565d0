// Drives the official Node.js MNS SDK against the emulator with the
// endpoint `devstack serve` prints ("http://127.0.0.1:PORT/."), as
// TestNodeSDK runs it. Prints one word per step; exits non-zero on error.
'use strict';

const MNSClient = require('@alicloud/mns');

const {MNS_ENDPOINT, MNS_AK, MNS_SECRET, MNS_QUEUE} = process.env;

(async () => {
  const client = new MNSClient('127', {
    endpoint: MNS_ENDPOINT,
    accessKeyId: MNS_AK,
    accessKeySecret: MNS_SECRET,
  });
  const out = [];
  await client.sendMessage(MNS_QUEUE, {MessageBody: 'from node'});
  out.push('sent');
  const got = await client.receiveMessage(MNS_QUEUE, 1);
  if (got.body.MessageBody !== 'from node') {
    throw new Error(`received ${JSON.stringify(got.body)}`);
  }
  out.push('received');
  await client.deleteMessage(MNS_QUEUE, got.body.ReceiptHandle);
  out.push('deleted');
  const attrs = await client.getQueueAttributes(MNS_QUEUE);
  if (attrs.body.QueueName !== MNS_QUEUE) {
    throw new Error(`attributes ${JSON.stringify(attrs.body)}`);
  }
  out.push('attributes');
  console.log(out.join(' '));
})().catch((err) => {
  console.error(err.name, err.message);
  process.exit(1);
});
