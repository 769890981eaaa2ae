#!/usr/bin/python3
"""Writes the golden outputs of TestQueryOutputLikeAWSCLI with the AWS CLI's
own formatters (Debian's awscli package: /usr/bin/python3 has it):
text through awscli.text.format_text, JSON as the AWS CLI's JSON formatter
dumps it, YAML through awscli.formatter.YAMLDumper (--output yaml; yaml-stream
dumps [result] the same way). Run it from this directory when a case is
added:
    /usr/bin/python3 gen.py > /dev/null
"""
import io
import json
from collections import OrderedDict

import argparse

import jmespath
from awscli import text
from awscli.formatter import TableFormatter
from awscli.formatter import YAMLDumper

for case in json.load(open("cases.json")):
    doc = json.load(open(case["doc"]), object_pairs_hook=OrderedDict)
    result = jmespath.search(case["query"], doc)
    out = io.StringIO()
    text.format_text(result, out)
    with open(case["name"] + ".text", "w") as f:
        f.write(out.getvalue())
    with open(case["name"] + ".json", "w") as f:
        f.write(json.dumps(result, indent=4, ensure_ascii=False) + "\n")
    # The AWS CLI's responses are plain dicts; its YAML dumper takes no
    # OrderedDict.
    plain = json.loads(json.dumps(result))
    y = io.StringIO()
    YAMLDumper().dump(plain, y)
    with open(case["name"] + ".yaml", "w") as f:
        f.write(y.getvalue())
    # The table as on a terminal 80 columns wide (run with stdout
    # redirected, as the AWS CLI then assumes 80), titled ListAccessKeys.
    # Where the AWS CLI itself fails (rows of unequal length), no golden.
    table = io.StringIO()
    try:
        TableFormatter(argparse.Namespace(color="off", query=None))._format_response("ListAccessKeys", result, table)
    except ValueError:
        continue
    with open(case["name"] + ".table", "w") as f:
        f.write(table.getvalue())
