import { describe, expect, it } from 'vitest';
import { createDestinationPolicy, isBlockedAddress, isLocalAddress } from '../../../shared/http/addressPolicy.ts';

describe('isBlockedAddress', () => {
  it.each([
    '127.0.0.1',
    '127.255.255.254',
    '0.0.0.0',
    '10.1.2.3',
    '100.64.0.1',
    '169.254.169.254',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '198.18.0.1',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fd00::1',
    'fe80::1%eth0',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:a9fe:a9fe',
    '64:ff9b::169.254.169.254',
    '::a9fe:a9fe',
    '::127.0.0.1',
    '2002:a9fe:a9fe::1',
    '2002:0a00:0001::',
    '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    'not-an-address',
  ])('blocks %s', (address) => {
    expect(isBlockedAddress(address)).toBe(true);
  });

  it.each([
    '93.184.216.34',
    '8.8.8.8',
    '172.32.0.1',
    '100.128.0.1',
    '11.0.0.1',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:0808:0808::1',
  ])('allows %s', (address) => {
    expect(isBlockedAddress(address)).toBe(false);
  });
});

describe('isLocalAddress', () => {
  it.each(['127.0.0.1', '127.0.0.2', '0.0.0.0', '::1', '::', '::ffff:127.0.0.1', '[::ffff:7f00:1]'])(
    '%s reaches this machine',
    (address) => {
      expect(isLocalAddress(address)).toBe(true);
    },
  );
  it.each(['93.184.216.34', '::ffff:8.8.8.8', 'localhost', 'not-an-address'])(
    '%s is not a local address literal',
    (address) => {
      expect(isLocalAddress(address)).toBe(false);
    },
  );
});

describe('createDestinationPolicy', () => {
  describe('urlRefusal (create and update, no DNS)', () => {
    const policy = createDestinationPolicy({ ownEndpoints: ['http://127.0.0.1:8000', 'http://0.0.0.0:8001'] });

    it.each([
      'http://127.0.0.1:8000/',
      'http://localhost:8000/x',
      'http://LocalHost.:8000/',
      'http://api.localhost:8001/',
      'http://127.0.0.2:8000/',
      'http://[::1]:8001/',
      'http://[::ffff:127.0.0.1]:8000/',
      'http://2130706433:8000/',
      'http://0x7f.1:8000/',
      'http://0177.0.0.1:8001/',
    ])("refuses %s as this service's own listener", (url) => {
      expect(policy.urlRefusal(url)).toMatchObject({ reason: 'own' });
    });

    it.each([
      'http://127.0.0.1:8002/',
      'http://localhost/',
      'https://127.0.0.1/',
      'http://10.0.0.1:8000/',
      'https://example.com:8000/',
    ])('allows %s when private-network blocking is off', (url) => {
      expect(policy.urlRefusal(url)).toBeUndefined();
    });

    it('matches a remote own endpoint by its name and port', () => {
      const remote = createDestinationPolicy({ ownEndpoints: ['http://dynamodb-local:8000'] });
      expect(remote.urlRefusal('http://DynamoDB-Local:8000/')).toMatchObject({ reason: 'own' });
      expect(remote.urlRefusal('http://dynamodb-local:8001/')).toBeUndefined();
      expect(remote.urlRefusal('http://127.0.0.1:8000/')).toBeUndefined();
    });

    it.each([
      'http://127.0.0.1/',
      'http://localhost:9000/',
      'http://10.1.2.3/',
      'http://169.254.169.254/latest/meta-data/',
      'http://[fd00::1]/',
      'http://[::ffff:192.168.1.1]/',
      'http://3232235777/',
    ])('refuses %s when private-network blocking is on', (url) => {
      const blocking = createDestinationPolicy({ blockPrivateNetworks: true });
      expect(blocking.urlRefusal(url)).toMatchObject({ reason: 'private' });
    });

    it('leaves names other than localhost to the check at send time', () => {
      const blocking = createDestinationPolicy({ blockPrivateNetworks: true });
      expect(blocking.urlRefusal('https://hooks.example.com/x')).toBeUndefined();
    });
  });

  describe('addressRefusal (connect time, resolved address)', () => {
    it('refuses every local address at an own local port, whatever name it was resolved from', async () => {
      const policy = createDestinationPolicy({ ownEndpoints: ['http://127.0.0.1:8000'] });
      expect(await policy.addressRefusal('sneaky.example', '127.0.0.1', 8000)).toMatchObject({ reason: 'own' });
      expect(await policy.addressRefusal('sneaky.example', '::ffff:127.0.0.1', 8000)).toMatchObject({ reason: 'own' });
      expect(await policy.addressRefusal('sneaky.example', '127.0.0.1', 8001)).toBeUndefined();
    });

    it('refuses the address a remote own endpoint resolves to, under another name', async () => {
      const policy = createDestinationPolicy({ ownEndpoints: ['http://localhost:8000', 'http://10.0.0.5:8000'] });
      expect(await policy.addressRefusal('store-alias.internal', '10.0.0.5', 8000)).toMatchObject({ reason: 'own' });
      expect(await policy.addressRefusal('store-alias.internal', '10.0.0.6', 8000)).toBeUndefined();
    });

    it('refuses private addresses only when blocking is on', async () => {
      const off = createDestinationPolicy();
      const on = createDestinationPolicy({ blockPrivateNetworks: true });
      expect(await off.addressRefusal('x', '10.0.0.1', 80)).toBeUndefined();
      expect(await on.addressRefusal('x', '10.0.0.1', 80)).toMatchObject({ reason: 'private' });
    });
  });
});
