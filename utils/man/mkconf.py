#!/usr/bin/python3
"""Write sluice.conf(5) from `sluiced --help`, whose option lines come from sluiced's
option table (daemon/config.c): every option is a key of the file, so the page lists
exactly the options the daemon has.   usage: mkconf.py SLUICED OUT"""

import re
import subprocess
import sys

OPT = re.compile(r"^  (?:-(\w), )?--([\w-]+)(?:=(\S+))?(?:\s{2,}(.*))?$")


def options(sluiced):
	"""[(name, arg, help)] from the --help text (help may continue on the next line)."""
	out, cur = [], None
	text = subprocess.run([sluiced, "--help"], check=True, capture_output=True,
			      text=True).stdout
	for line in text.splitlines():
		m = OPT.match(line)
		if m:
			cur = [m.group(2), m.group(3), m.group(4) or ""]
			out.append(cur)
		elif cur and line.startswith("   ") and line.strip():
			cur[2] = (cur[2] + " " + line.strip()).strip()
		else:
			cur = None
	return out


def roff(s):
	return s.replace("\\", "\\e").replace("-", "\\-")


HEAD = r""".TH SLUICE.CONF 5 "" "sluice %s" "File Formats"
.SH NAME
sluice.conf \- configuration file of sluiced
.SH SYNOPSIS
.I /etc/sluice/sluice.conf
.SH DESCRIPTION
.BR sluiced (8)
reads this INI file at start (and again on SIGHUP, for its log level):
.B [section]
lines,
.B key = value
lines, and comment lines starting with
.B #
or
.BR ; .
Whitespace around keys and values is ignored; there are no inline comments and no
quoting. sluiced uses the section
.B [sluice]
(another with
.BR \-\-config\-section ),
else
.BR [rtpengine] ,
so an rtpengine.conf can be used as it is: keys of rtpengine options sluiced does not
have are ignored with a warning.
.PP
Every key is the long name of a command-line option, and an option given on the command
line wins over the file. Options that may be given several times take a list separated
by
.B ;
(for example
.BR "interface = int/10.0.0.5; ext/192.0.2.5" ).
Boolean keys take
.B true
or
.BR false .
.SH KEYS
"""

TAIL = r""".SH EXAMPLE
.nf
[sluice]
listen\-ng = 127.0.0.1:2223
interface = 127.0.0.1
port\-min = 30000
port\-max = 40000
timeout = 60
.fi
.SH FILES
.I /etc/sluice/sluice.conf
.SH SEE ALSO
.BR sluiced (8),
.BR sluice\-ctl (1)
"""

SKIP = {"help", "version", "config-file", "config-section"}	# command line only


def main():
	sluiced, out = sys.argv[1], sys.argv[2]
	ver = subprocess.run([sluiced, "--version"], check=True, capture_output=True,
			     text=True).stdout.split()[-1]
	body = [HEAD % ver]
	for name, arg, hlp in options(sluiced):
		if name in SKIP:
			continue
		body.append(".TP\n.B %s%s\n%s\n" % (roff(name), " = " + roff(arg) if arg else
						   " = true|false", roff(hlp)))
	body.append(TAIL)
	with open(out, "w") as f:
		f.write("".join(body))


main()
