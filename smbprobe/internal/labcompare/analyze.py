#!/usr/bin/python3
"""analyze.py OUTDIR: tables for compare.sh's results.

Per tool and target set: wall time, hosts/s, client CPU per host and peak
RSS (median of the repeats, from /usr/bin/time), and for the Samba matrix
the correctness of five facts per server against the lab's ground truth
(status.json "expect"): SMB1 on, signing required, 3.1.1, guest, encryption
required. A fact a tool does not report counts as wrong ("-").
"""
import glob, json, os, re, statistics, sys
import xml.etree.ElementTree as ET

out = sys.argv[1]
status = json.load(open(os.path.join(out, "status.json")))
truth = {s["address"]: s for s in status["servers"] if s["port"] == 445 and not s.get("prefix")}
sets = {n: [l.strip() for l in open(os.path.join(out, n + ".txt")) if l.strip()] for n in ("anyip", "matrix")}
tools = ["smbsweep", "smbsweep-w64", "smbsweep-long", "smbsweep-shares", "zgrab2", "nmap"]


def times(tool, s):
    rows = []
    for f in sorted(glob.glob(os.path.join(out, "%s-%s-*.time" % (tool, s)))):
        lines = open(f).read().strip().splitlines()
        w = lines[-1].split() if lines else []  # after "Command exited with non-zero status N"
        if len(w) >= 4:
            rows.append([float(w[0]), float(w[1]) + float(w[2]), int(w[3])])
    return rows


def facts_smbsweep(path):
    res = {}
    for line in open(path):
        r = json.loads(line)
        smb = r.get("smb") or {}
        g = smb.get("guest")
        res[r["ip"]] = {
            "ok": r["status"] == "success",
            "smb1": (smb.get("smb1") or {}).get("enabled"),
            # SMB2 signing policy; an SMB1-only server's comes from SMB1.
            "signreq": (smb.get("signing") if smb.get("dialect") else (smb.get("smb1") or {}).get("signing") or None) and
                       (smb.get("signing") if smb.get("dialect") else smb["smb1"]["signing"]).get("required", False),
            "311": smb.get("dialect") == "3.1.1",
            "guest": any(s.lower() == "public" for s in (g.get("shares") or [])) if g is not None else None,
            "enc": g.get("encryption_required") if g is not None else None,
        }
    return res


def facts_zgrab2(path):
    res = {}
    for line in open(path):
        r = json.loads(line)
        smb = r.get("data", {}).get("smb", {})
        x = smb.get("result") or {}
        neg = x.get("negotiation_log") or {}
        res[r["ip"]] = {
            "ok": smb.get("status") == "success",
            "smb1": x.get("smbv1_support"),
            "signreq": bool(neg.get("security_mode", 0) & 2) if neg else None,
            "311": neg.get("dialect_revision") == 0x0311 if neg else False,
            "guest": None,
            "enc": None,
        }
    return res


def facts_nmap(path):
    res = {}
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError:
        return res
    for h in root.iter("host"):
        ip = h.find("address").get("addr")
        txt = {s.get("id"): s.get("output", "") for s in h.iter("script")}
        protos = txt.get("smb-protocols", "")
        sec2 = txt.get("smb2-security-mode", "")
        sec1 = txt.get("smb-security-mode", "")
        res[ip] = {
            "ok": bool(txt),
            "smb1": ("NT LM 0.12" in protos) if protos else None,
            "signreq": ("and required" in sec2) if sec2 else (("message_signing: required" in sec1) if sec1 else None),
            "311": ("311" in [l.strip() for l in protos.splitlines()]) if protos else None,
            # smb-security-mode reports the account it used; "guest" means a
            # guest session was accepted (over SMB1 only).
            "guest": ("account_used: guest" in sec1) if sec1 else None,
            "enc": None,
        }
    return res


parse = {"smbsweep": facts_smbsweep, "smbsweep-long": facts_smbsweep, "smbsweep-w64": facts_smbsweep, "smbsweep-shares": facts_smbsweep, "zgrab2": facts_zgrab2, "nmap": facts_nmap}
suffix = {"smbsweep": "out", "smbsweep-long": "out", "smbsweep-w64": "out", "smbsweep-shares": "out", "zgrab2": "out", "nmap": "out"}

print("## Speed (median of %d repeats)\n" % max(len(times("smbsweep", "anyip")), 1))
print("| tool | set | hosts | wall s | hosts/s | client CPU ms/host | peak RSS MiB | hosts answered |")
print("|---|---|---|---|---|---|---|---|")
for s in ("anyip", "matrix"):
    n = len(sets[s])
    for t in tools:
        rows = times(t, s)
        if not rows:
            continue
        wall = statistics.median(r[0] for r in rows)
        cpu = statistics.median(r[1] for r in rows)
        rss = statistics.median(r[2] for r in rows) / 1024
        oks = []
        for f in sorted(glob.glob(os.path.join(out, "%s-%s-*.%s" % (t, s, suffix[t])))):
            oks.append(sum(1 for v in parse[t](f).values() if v["ok"]))
        print("| %s | %s | %d | %.2f | %.0f | %.2f | %.0f | %s |" % (t, s, n, wall, n / wall, 1000 * cpu / n, rss, "/".join(map(str, oks))))

print("\n## Correctness on the Samba matrix (last repeat; Y right, x wrong, - not reported)\n")
cols = [("smb1", "SMB1"), ("signreq", "SigningRequired"), ("311", "Dialect"), ("guest", "Guest"), ("enc", "EncryptionRequired")]
facts = {}
for t in list(tools):
    fs = sorted(glob.glob(os.path.join(out, "%s-matrix-*.%s" % (t, suffix[t]))))
    facts[t] = parse[t](fs[-1]) if fs else {}
tools = [t for t in tools if facts[t]]
print("| server | expect | " + " | ".join(tools) + " |")
print("|---|---|" + "---|" * len(tools))
score = {t: [0, 0] for t in tools}
for ip, s in sorted(truth.items(), key=lambda kv: kv[0]):
    ex = s["expect"]
    want = {"smb1": ex["smb1"], "signreq": ex["signing_required"], "311": ex["dialect"] == "3.1.1",
            "guest": ex["guest"], "enc": ex["encryption_required"]}
    cells = []
    for t in tools:
        f = facts[t].get(ip)
        marks = ""
        for k, _ in cols:
            if k in ("signreq",) and ex["dialect"] == "":
                v, w = (f or {}).get(k), None  # no SMB2: signing of SMB2 is moot
            if f is None or f.get(k) is None:
                marks += "-"
                score[t][1] += 1
            elif f[k] == want[k]:
                marks += "Y"
                score[t][0] += 1
                score[t][1] += 1
            else:
                marks += "x"
                score[t][1] += 1
        cells.append(marks)
    exs = "".join("1" if want[k] else "0" for k, _ in cols)
    print("| %s %s | %s | %s |" % (s["name"], ip, exs, " | ".join(cells)))
print("| **right** | | " + " | ".join("%d/%d" % tuple(score[t]) for t in tools) + " |")
print("\nColumns of each cell: " + ", ".join(c for _, c in cols) + "; expect: 1 = true.")
