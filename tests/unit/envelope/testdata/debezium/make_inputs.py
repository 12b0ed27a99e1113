#!/usr/bin/env python3
"""Makes the inputs of debezium_json_encoder_test's comparison with captures
of the real Debezium 3.6.1.Final (PostgreSQL connector, pgoutput, Kafka
Connect JsonConverter), made by /work/scratch/dbz/capture.sh from
tests/debezium/sql/{ops,types}_{setup,workload}.sql (the workloads the live
comparison, debezium_compat_test.cc, runs too).

For each capture NAME.jsonl (one record a line: topic, key, value, headers)
it writes NAME.input.json: the relations and types the stream described, and
the pgoutput change messages that made the records, in order, each with the
number of records it made and the context (LSN, xid, commit time, last commit
LSN, snapshot mark, processing time) read back from those records' source
blocks. The rows' text is what pgoutput sends under pgcdc's session settings
(DateStyle ISO, IntervalStyle iso_8601, TimeZone UTC, extra_float_digits 3,
bytea hex): read from the capture's database for the types tables, derived
from the captured values (or written below) for the ops tables.

Usage: make_inputs.py PGPORT CAPTURE_DIR OUT_DIR NAME...
"""
import base64
import json
import subprocess
import sys

PORT, CAPTURES, OUT = sys.argv[1], sys.argv[2], sys.argv[3]
PLACEHOLDER = "__debezium_unavailable_value"


# Each capture's settings beyond Debezium's defaults (its .props file).
MODES = {"decimal_mode": "string", "time_precision": "connect", "binary_mode": "hex",
         "tombstones_on_delete": False}
OPTIONS = {"ops_modes": MODES, "types_modes": MODES, "types_noschemas": {"schemas_enable": False}}


def psql(db, sql):
    out = subprocess.run(
        ["psql", "-X", "-At", "-h", "127.0.0.1", "-p", PORT, "-U", "postgres",
         "-d", db, "-c",
         "SET DateStyle=ISO; SET IntervalStyle=iso_8601; SET TimeZone=UTC; "
         "SET extra_float_digits=3; SET bytea_output=hex; " + sql],
        check=True, capture_output=True, text=True).stdout
    return [l for l in out.split("\n") if l and l != "SET"]


def relations(db, tables):
    rels = {}
    for t in tables:
        rows = psql(db, f"""SELECT json_build_object('oid', c.oid, 'replica_identity', c.relreplident,
          'columns', (SELECT json_agg(json_build_object('name', a.attname, 'type_oid', a.atttypid,
             'typmod', a.atttypmod,
             'key', CASE WHEN c.relreplident = 'f' THEN true
                         ELSE a.attnum = ANY(coalesce((SELECT i.indkey::int2[] FROM pg_index i
                              WHERE i.indrelid = c.oid AND i.indisprimary), '{{}}')) END)
             ORDER BY a.attnum) FROM pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''),
          'pk', (SELECT json_agg(a.attname ORDER BY k.ord) FROM pg_index i,
             unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord), pg_attribute a
             WHERE i.indrelid = c.oid AND i.indisprimary AND a.attrelid = c.oid AND a.attnum = k.attnum))
          FROM pg_class c WHERE c.oid = 'public.{t}'::regclass""")
        rel = json.loads(rows[0])
        rel["oid"] = int(rel["oid"])
        for c in rel["columns"]:
            c["type_oid"] = int(c["type_oid"])
        rels["public." + t] = rel
    return rels


def types(db):
    rows = psql(db, """SELECT json_build_object('oid', t.oid,
        'name', CASE WHEN n.nspname = 'pg_catalog' THEN t.typname ELSE n.nspname || '.' || t.typname END,
        'kind', t.typtype, 'array_element', CASE WHEN EXISTS (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid)
           THEN t.typelem ELSE 0 END,
        'domain_base', t.typbasetype, 'domain_typmod', t.typtypmod,
        'labels', (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid))
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname NOT IN ('information_schema', 'pg_toast') AND t.typtype IN ('b','d','e','r','m')
        AND (n.nspname <> 'pg_catalog' OR t.oid < 10000)""")
    return [json.loads(r) for r in rows]


def source(rec):
    v = json.loads(rec["value"]) if rec["value"] else None
    if v is None:
        return None, None
    p = v.get("payload", v) if "schema" in v and "payload" in v else v
    return p, p.get("source")


def context(p, s):
    seq = json.loads(s["sequence"])
    return {"lsn": s["lsn"], "xid": s["txId"] or 0, "commit_ts_us": s["ts_us"],
            "last_commit_lsn": int(seq[0]) if seq[0] is not None else 0,
            "snapshot": s["snapshot"], "now_ms": p["ts_ms"]}


def text_of(col_type, v):
    """A captured value of an ops table back to pgoutput's text."""
    if v is None:
        return None
    if col_type == 17:  # bytea
        if base64.b64decode(v) == PLACEHOLDER.encode():
            return {"u": 1}
        return "\\x" + base64.b64decode(v).hex()
    if col_type == 1009:  # text[]
        if v == [PLACEHOLDER]:
            return {"u": 1}
        return "{" + ",".join(v) + "}"
    if v == PLACEHOLDER:
        return {"u": 1}
    return str(v)


# t_typed's rows, as pgoutput prints them (from ops_workload.sql).
T_TYPED = {
    100: ["100", "1.5", "2.25", "01:02:03.456", "01:02:03.456789", "2024-01-01 01:02:03.456",
          "2024-01-01 01:02:03.456789", "2024-01-01 01:02:03.456789+00", "2024-01-01", "P1DT2H3M4.5S",
          "\\x00ff", "0.5"],
    1: ["1", "NaN", "-12345678.90", "23:59:59.999", "00:00:00.000001", "1970-01-01 00:00:00.001",
        "1969-12-31 23:59:59.999999", "2024-02-29 11:00:00.5+00", "1969-12-31", "P-1M2DT-1S", "\\x", "NaN"],
}
T_TYPED_UPDATED = list(T_TYPED[1])
T_TYPED_UPDATED[1] = "123.456"
T_TYPED_UPDATED[10] = "\\xdeadbeef"


def ops_tuple(rel, image, table, op):
    if table == "public.t_typed":
        row_id = image["id"]
        if op == "u":
            return T_TYPED_UPDATED
        return T_TYPED[row_id] if all(v is not None for v in image.values()) or op != "d" else None
    return [text_of(c["type_oid"], image.get(c["name"])) for c in rel["columns"]]


def key_only(rel, image):
    return [str(image[c["name"]]) if c["key"] else None for c in rel["columns"]]


def ops(name, db):
    recs = [json.loads(l) for l in open(f"{CAPTURES}/{name}.jsonl")]
    tables = ["t_default", "t_full", "t_nopk", "t_multikey", "toast_default", "toast_full",
              "toast_bytea", "t_trunc", "t_typed", "zz_stop"]
    rels = relations(db, tables)
    msgs = []
    i = 0
    while i < len(recs):
        r = recs[i]
        p, s = source(r)
        if p is None:
            raise SystemExit(f"{name}: a tombstone without its delete at {i}")
        table = f"{s['schema']}.{s['table']}" if s["schema"] else None
        rel = rels.get(table)
        op = p["op"]
        headers = dict((h[0], h[1]) for h in r.get("headers", []))
        m = {"context": context(p, s), "first_record": i}
        def tombstone_follows(j):
            return j < len(recs) and recs[j]["value"] is None
        if op == "r":
            m.update(kind="read", table=table, new=ops_tuple(rel, p["after"], table, op))
            n = 1
        elif op == "c":
            m.update(kind="insert", table=table, new=ops_tuple(rel, p["after"], table, op))
            n = 1
        elif op == "u":
            m.update(kind="update", table=table, new=ops_tuple(rel, p["after"], table, op))
            if p["before"] is not None:
                m.update(old_kind="O", old=ops_tuple(rel, p["before"], table, op))
            n = 1
        elif op == "d" and "__debezium.newkey" in headers:
            j = i + 1 + (1 if tombstone_follows(i + 1) else 0)
            cp, _ = source(recs[j])
            full = rel["replica_identity"] == "f"
            m.update(kind="update", table=table, new=ops_tuple(rel, cp["after"], table, "c"),
                     old_kind="O" if full else "K",
                     old=ops_tuple(rel, p["before"], table, op) if full else key_only(rel, p["before"]))
            n = j + 1 - i
        elif op == "d":
            full = rel["replica_identity"] == "f"
            m.update(kind="delete", table=table, old_kind="O" if full else "K",
                     old=ops_tuple(rel, p["before"], table, op) if full else key_only(rel, p["before"]))
            n = 2 if tombstone_follows(i + 1) else 1
        elif op == "t":
            m.update(kind="truncate", table=table)
            n = 1
        elif op == "m":
            content = p["message"]["content"]
            if OPTIONS.get(name, {}).get("binary_mode") == "hex":
                content = base64.b64encode(bytes.fromhex(content)).decode()
            m.update(kind="message", prefix=p["message"]["prefix"], transactional=s["txId"] is not None,
                     content_base64=content)
            n = 1
        m["records"] = n
        msgs.append(m)
        i += n
    return {"database": db, "options": OPTIONS.get(name, {}), "relations": rels, "types": types(db),
            "messages": msgs}


def alltypes(name, db):
    recs = [json.loads(l) for l in open(f"{CAPTURES}/{name}.jsonl")]
    rels = relations(db, ["alltypes", "zz_stop"])
    cols = [c["name"] for c in rels["public.alltypes"]["columns"]]
    def row(i):
        # bool's cast to text says "true"; its output function, which
        # pgoutput uses, "t". (char(n) and inet casts differ too: fixed
        # below.)
        sel = ", ".join(f"CASE WHEN {c['name']} THEN 't' WHEN NOT {c['name']} THEN 'f' END"
                        if c["type_oid"] == 16 else f"{c['name']}::text"
                        for c in rels["public.alltypes"]["columns"])
        values = json.loads(psql(db, f"SELECT to_json(ARRAY[{sel}]) FROM alltypes WHERE id = {i}")[0])
        for k, c in enumerate(rels["public.alltypes"]["columns"]):
            v = values[k]
            if v is None:
                continue
            if c["type_oid"] == 1042:  # char(n) keeps its padding
                values[k] = v.ljust(c["typmod"] - 4)
            if c["type_oid"] == 869 and (v.endswith("/32") and ":" not in v or v.endswith("/128")):
                values[k] = v.rsplit("/", 1)[0]  # inet prints no host mask
        return values
    current = {i: row(i) for i in (1, 2, 3, 4, 11, 12, 13)}
    inserted = {i + 10: ([str(i + 10)] + current[i][1:]) for i in (1, 2, 3, 4)}
    msgs = []
    i = 0
    while i < len(recs):
        p, s = source(recs[i])
        table = f"{s['schema']}.{s['table']}"
        op = p["op"]
        m = {"context": context(p, s), "first_record": i, "table": table}
        image = p["after"] if p["after"] is not None else p["before"]
        rid = image["id"]
        n = 1
        if table == "public.zz_stop":
            m.update(kind="insert", new=[str(rid)])
        elif op == "r":
            m.update(kind="read", new=current[rid])
        elif op == "c":
            m.update(kind="insert", new=inserted[rid])
        elif op == "u":
            m.update(kind="update", new=current[rid])
        elif op == "d":
            m.update(kind="delete", old_kind="K", old=[str(rid)] + [None] * (len(cols) - 1))
            n = 2 if i + 1 < len(recs) and recs[i + 1]["value"] is None else 1
        m["records"] = n
        msgs.append(m)
        i += n
    return {"database": db, "options": OPTIONS.get(name, {}), "relations": rels, "types": types(db),
            "messages": msgs}


for name in sys.argv[4:]:
    db = name
    data = alltypes(name, db) if name.startswith("types") else ops(name, db)
    with open(f"{OUT}/{name}.input.json", "w") as f:
        json.dump(data, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print(name, len(data["messages"]), "messages")
