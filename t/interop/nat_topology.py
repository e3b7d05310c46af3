"""A phone behind a NAT router, in three network namespaces the test creates:

  ns PHONE                      ns ROUTER (NAT)                          ns PUBLIC
  caller baresip                                                         Kamailio, relay, NG tap,
  10.0.0.2/24 phone0 ---veth--- r-phone 10.0.0.1/24                      callee baresip (on lo)
  default via 10.0.0.1          r-pub 203.0.113.1/24 ---veth--- pub0 203.0.113.2/24
                                nft: UDP leaving r-pub                   default via 203.0.113.1
                                  masquerade to 203.0.113.1:20000-20999
                                  (random ports; counter `mappings`)
                                forward from r-pub: replies only
                                  (conntrack established), rest counted and dropped

So the phone's SDP says c=10.0.0.2 while its SIP and RTP reach Kamailio and the relay from
203.0.113.1 and a port in 20000-20999. The public side can only reach the phone through a
mapping the phone opened, as through a real NAT: anything sent to 10.0.0.2 itself is
routed to the router and dropped there (nft counter `unsolicited`). Addresses exist only
inside these namespaces (10/8 is private, 203.0.113/24 is TEST-NET-3); delete() removes
the lot (interfaces and nft tables die with their namespace).
"""
import json
import os
import re
import subprocess

import netns

PHONE_ADDR, ROUTER_PRIVATE = "10.0.0.2", "10.0.0.1"
ROUTER_PUBLIC, PUBLIC_ADDR = "203.0.113.1", "203.0.113.2"
NAT_PORTS = (20000, 20999)

NFT_RULES = """
table ip nat_router {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "r-pub" meta l4proto udp counter name mappings masquerade to :%d-%d random
	}
	counter mappings { }
	counter unsolicited { }
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "r-pub" ct state established,related accept
		iifname "r-pub" counter name unsolicited drop
	}
}
""" % NAT_PORTS


class NatTopology:
	def __init__(self, tag=None):
		tag = tag or str(os.getpid())
		self.phone = "sluice-nat-phone-%s" % tag
		self.router = "sluice-nat-rtr-%s" % tag
		self.public = "sluice-nat-pub-%s" % tag
		self.created = []

	def create(self):
		_delete_stale()
		for ns in (self.phone, self.router, self.public):
			netns.add(ns)
			self.created.append(ns)
		r, ph, pub = self.router, self.phone, self.public
		netns.run(r, "ip", "link", "add", "r-phone", "type", "veth", "peer", "name",
			  "phone0", "netns", ph)
		netns.run(r, "ip", "link", "add", "r-pub", "type", "veth", "peer", "name",
			  "pub0", "netns", pub)
		for ns, dev, addr in ((ph, "phone0", PHONE_ADDR), (r, "r-phone", ROUTER_PRIVATE),
				      (r, "r-pub", ROUTER_PUBLIC), (pub, "pub0", PUBLIC_ADDR)):
			netns.run(ns, "ip", "addr", "add", addr + "/24", "dev", dev)
			netns.run(ns, "ip", "link", "set", dev, "up")
		netns.run(ph, "ip", "route", "add", "default", "via", ROUTER_PRIVATE)
		netns.run(pub, "ip", "route", "add", "default", "via", ROUTER_PUBLIC)
		netns.run(r, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
		netns.run(r, "nft", "-f", "-", stdin=NFT_RULES)
		return self

	def counters(self):
		"""{name: packets} of the router's named nft counters."""
		out = json.loads(netns.run(self.router, "nft", "-j", "list", "counters"))
		return {c["counter"]["name"]: c["counter"]["packets"]
			for c in out.get("nftables", []) if "counter" in c}

	def conntrack(self):
		"""The router's NAT table as text (for a failing test's report), if readable."""
		try:
			return netns.run(self.router, "cat", "/proc/net/nf_conntrack", check=False)
		except Exception as e:	# noqa: BLE001 -- a report aid only
			return repr(e)

	def delete(self):
		for ns in reversed(self.created):
			netns.delete(ns)
		self.created = []


def _delete_stale():
	"""Namespaces of runs that were killed before their cleanup (their pid is gone)."""
	out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
			     timeout=20).stdout
	for m in re.finditer(r"^(sluice-nat-(?:phone|rtr|pub)-(\d+))\b", out, re.M):
		if not os.path.exists("/proc/%s" % m.group(2)):
			netns.delete(m.group(1))
