import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lambdas/core/errors.js';
import {
  addressRefusal,
  DEPLOYMENT_URL_POLICY,
  LOCAL_URL_POLICY,
  parseWebhookUrl,
} from '../../lambdas/core/webhook-urls.js';

describe('addressRefusal', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.254', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'shared (carrier-grade NAT)'],
    ['169.254.169.254', 'link-local'],
    ['169.254.0.1', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.251', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['198.18.0.1', 'benchmarking'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['64:ff9b::10.1.2.3', 'private'],
    ['::10.0.0.1', 'private'],
    ['2002:a9fe:a9fe::1', '6to4 tunnel'],
    ['2001:0:4136:e378::1', 'Teredo tunnel'],
    ['fd00:ec2::254', 'private'],
  ])('refuses %s (%s) in a deployment', (address, reason) => {
    expect(addressRefusal(address, DEPLOYMENT_URL_POLICY)).toBe(reason);
  });

  it.each([
    '93.184.215.14',
    '8.8.8.8',
    '172.32.0.1',
    '172.15.255.255',
    '100.128.0.1',
    '169.253.255.255',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
  ])('allows the public address %s', (address) => {
    expect(addressRefusal(address, DEPLOYMENT_URL_POLICY)).toBeUndefined();
  });

  it('allows loopback, and only loopback, under the local policy', () => {
    expect(addressRefusal('127.0.0.1', LOCAL_URL_POLICY)).toBeUndefined();
    expect(addressRefusal('::1', LOCAL_URL_POLICY)).toBeUndefined();
    expect(addressRefusal('169.254.169.254', LOCAL_URL_POLICY)).toBe('link-local');
    expect(addressRefusal('10.0.0.1', LOCAL_URL_POLICY)).toBe('private');
    expect(addressRefusal('::ffff:192.168.0.1', LOCAL_URL_POLICY)).toBe('private');
  });

  it('calls a non-address malformed', () => {
    expect(addressRefusal('not-an-address', DEPLOYMENT_URL_POLICY)).toBe('malformed');
  });
});

describe('parseWebhookUrl', () => {
  const refusal = (url: string, policy = DEPLOYMENT_URL_POLICY) => {
    try {
      parseWebhookUrl(url, policy);
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe('url');
      return (error as Error).message;
    }
    return undefined;
  };

  it('takes a public https URL as it is', () => {
    expect(parseWebhookUrl('https://hooks.example.com/aperture?x=1', DEPLOYMENT_URL_POLICY).href).toBe(
      'https://hooks.example.com/aperture?x=1',
    );
  });

  it.each([
    ['http://hooks.example.com/', /must be https:/],
    ['http://169.254.169.254/', /must be https:/],
    ['https://169.254.169.254/latest/meta-data/', /link-local/],
    ['https://[::ffff:169.254.169.254]/', /link-local/],
    ['https://[fd00:ec2::254]/', /private/],
    ['https://10.0.0.1/', /private/],
    ['https://localhost/', /loopback/],
    ['https://api.localhost./', /loopback/],
    ['https://127.0.0.1:8443/', /loopback/],
    ['https://user:pass@hooks.example.com/', /user name or password/],
    ['https://hooks.example.com/#frag', /fragment/],
    ['ftp://hooks.example.com/', /must be https:/],
    ['file:///etc/passwd', /must be https:/],
    ['/relative', /absolute URL/],
    [`https://hooks.example.com/${'a'.repeat(2100)}`, /longer than/],
  ])('refuses %s in a deployment', (url, message) => {
    expect(refusal(url)).toMatch(message);
  });

  it('takes http and loopback locally, and nothing else private', () => {
    expect(parseWebhookUrl('http://localhost:4000/hook', LOCAL_URL_POLICY).port).toBe('4000');
    expect(parseWebhookUrl('http://127.0.0.1:4000/hook', LOCAL_URL_POLICY).hostname).toBe('127.0.0.1');
    expect(refusal('http://169.254.169.254/', LOCAL_URL_POLICY)).toMatch(/link-local/);
    expect(refusal('http://192.168.1.20/', LOCAL_URL_POLICY)).toMatch(/private/);
  });

  it('judges the address the URL parser makes of odd IPv4 spellings', () => {
    // WHATWG URL parsing turns these into 169.254.169.254 and 127.0.0.1 before anything connects.
    expect(refusal('https://0xa9fea9fe/')).toMatch(/link-local/);
    expect(refusal('https://2852039166/')).toMatch(/link-local/);
    expect(refusal('https://0177.0.0.1/')).toMatch(/loopback/);
  });
});
