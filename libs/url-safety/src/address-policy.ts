import ipaddr from 'ipaddr.js';

/**
 * Whether an IP address is a public unicast address a webhook may reach.
 * Loopback, private, link-local, CGNAT, multicast, reserved and every other
 * special range are refused; IPv4-mapped and translated IPv6 forms are judged
 * by the IPv4 address they carry.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) parsed = v6.toIPv4Address();
    else {
      const range = v6.range();
      // Only global unicast (2000::/3) is reachable on the internet; this also refuses the
      // deprecated IPv4-compatible form (::a.b.c.d), which ipaddr.js calls unicast.
      const first = v6.parts[0];
      return range === 'unicast' && first >= 0x2000 && first <= 0x3fff;
    }
  }
  const v4 = parsed as ipaddr.IPv4;
  if (v4.range() !== 'unicast') return false;
  // ipaddr.js calls these unicast, but they are documentation, benchmarking or protocol ranges.
  const special: Array<[string, number]> = [
    ['192.0.0.0', 24],
    ['192.0.2.0', 24],
    ['198.18.0.0', 15],
    ['198.51.100.0', 24],
    ['203.0.113.0', 24],
    ['240.0.0.0', 4],
  ];
  return !special.some(([net, bits]) => v4.match(ipaddr.IPv4.parse(net), bits));
}

export function isLoopbackAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range() === 'loopback';
}
