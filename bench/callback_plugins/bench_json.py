# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stdout callback of the benchmarks: one JSON document with each task's start, end and result."""

from __future__ import absolute_import, division, print_function

import json
import time

from ansible.plugins.callback import CallbackBase

__metaclass__ = type

DOCUMENTATION = """
name: bench_json
type: stdout
short_description: Task timings and results as one JSON document (benchmarks only)
description:
  - Prints, when the playbook ends, the name, start, end and result of every task that ran on localhost.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "bench_json"

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.tasks = []
        self.current = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.current = {"name": task.get_name(), "start": time.time(), "end": None, "result": {}}
        self.tasks.append(self.current)

    def _done(self, result, **status):
        entry = self.current
        if entry is None:
            return
        entry["end"] = time.time()
        data = dict(result._result)
        data.update(status)
        data.pop("invocation", None)
        entry["result"] = data

    def v2_runner_on_ok(self, result):
        self._done(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._done(result, failed=True, ignored=ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._done(result, skipped=True)

    def v2_runner_on_unreachable(self, result):
        self._done(result, failed=True, unreachable=True)

    def v2_playbook_on_stats(self, stats):
        self._display.display(json.dumps({"tasks": self.tasks}, default=str))
