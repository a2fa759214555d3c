#!/usr/bin/env python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Delete a pod as soon as it runs the given image and is Ready: a failure injected in the middle of a rollout.

  delete_pod_when_updated.py NAMESPACE POD IMAGE [--after SECONDS] [--timeout SECONDS]

--after waits that long once the pod is Ready on IMAGE, so that a rollout polling the pod has seen it Ready and
moved on to its health gate before the pod goes away.

Uses $KUBECONFIG. Prints one JSON object; exits 1 when the pod never got there within the timeout.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import sys
import time

from kubernetes import client, config


def ready_on(pod, image):
    if pod.metadata.deletion_timestamp is not None:
        return False
    if not any(c.image == image for c in pod.spec.containers):
        return False
    return any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("namespace")
    parser.add_argument("pod")
    parser.add_argument("image")
    parser.add_argument("--after", type=float, default=0)
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    config.load_kube_config()
    core = client.CoreV1Api()
    started = time.time()
    while time.time() - started < args.timeout:
        try:
            pod = core.read_namespaced_pod(args.pod, args.namespace)
        except client.ApiException as exc:
            if exc.status != 404:
                raise
            pod = None
        if pod is not None and ready_on(pod, args.image):
            ready_after = round(time.time() - started)
            time.sleep(args.after)
            core.delete_namespaced_pod(args.pod, args.namespace)
            print(json.dumps({"deleted": args.pod, "uid": pod.metadata.uid, "ready_after_seconds": ready_after,
                              "deleted_after_seconds": round(time.time() - started)}))
            return 0
        time.sleep(2)
    print(json.dumps({"deleted": None, "reason": "%s never ran %s Ready within %d s" % (args.pod, args.image, args.timeout)}))
    return 1


if __name__ == "__main__":
    sys.exit(main())
