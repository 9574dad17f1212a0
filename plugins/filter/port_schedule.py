# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Filters over module_utils/port_schedule.py: which ports a build host replays."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.autoport.zos.plugins.module_utils.port_schedule import ScheduleError, assign


def ports_for_host(ports, host, hosts, live=None):
    """The ports (in the given order) whose rendezvous-hash owner among the live hosts is host."""
    if not isinstance(ports, list):
        raise AnsibleFilterError("ports_for_host: the port list must be a list, got %s" % type(ports).__name__)
    hosts = list(hosts or [])
    live = list(live) if live is not None else hosts
    if host not in live:
        live.append(host)
    try:
        return assign(ports, hosts, live).get(host, [])
    except ScheduleError as exc:
        raise AnsibleFilterError("ports_for_host: %s" % exc) from exc


class FilterModule:
    """autoport.zos port scheduling filters."""

    def filters(self):
        return {"ports_for_host": ports_for_host}
