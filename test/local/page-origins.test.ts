import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { pageOrigins } from '../../local/api/page-origins.js';

const address = (family: 'IPv4' | 'IPv6', value: string) =>
  ({ family, address: value }) as NetworkInterfaceInfo;
const interfaces = {
  lo: [address('IPv4', '127.0.0.1'), address('IPv6', '::1')],
  eth0: [address('IPv4', '192.168.1.20'), address('IPv6', 'fe80::1')],
};

describe('the demo page’s origins', () => {
  it.each([
    ['a loopback address, also localhost', '127.0.0.1', '127.0.0.1', ['127.0.0.1', 'localhost']],
    ['IPv6 loopback', '::1', '::1', ['[::1]', 'localhost']],
    ['localhost, as the name and the address it bound', 'localhost', '::1', ['localhost', '[::1]']],
    ['one interface, by its address', '192.168.1.20', '192.168.1.20', ['192.168.1.20']],
    ['a name of this machine', 'mybox.lan', '192.168.1.20', ['mybox.lan', '192.168.1.20']],
    ['every IPv4 interface', '0.0.0.0', '0.0.0.0', ['0.0.0.0', 'localhost', '127.0.0.1', '192.168.1.20']],
    ['every interface', '::', '::', ['[::]', 'localhost', '127.0.0.1', '[::1]', '192.168.1.20', '[fe80::1]']],
  ])('%s', (_, host, bound, names) => {
    expect(pageOrigins(host, bound, 3000, interfaces)).toEqual(names.map((name) => `http://${name}:3000`));
  });
});
