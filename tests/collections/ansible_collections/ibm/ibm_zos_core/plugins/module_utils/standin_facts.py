# -*- coding: utf-8 -*-
# Test stand-in for ibm.ibm_zos_core, NOT IBM's collection (see README.md).
"""Stand-in zos_gather_facts: zinfo-shaped facts from a JSON fixture.

The fixture is IBM_ZOS_CORE_STANDIN_FACTS (a JSON file shaped like
`zinfo -j`: {"ipl": {...}, "cpu": {...}, "sys": {...}, "iodf": {...}}) or the
bundled plausible z/OS 3.1 system below. Mirrored: gather_subset "all" or a
list of subsets, the fact names zinfo uses, fnmatch filter, nothing gathered in
check mode, and the real error messages for bad subsets. Facts describe the
system only (ipl, cpu, sys, iodf), never USS tools.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os
from fnmatch import fnmatch

from ansible_collections.ibm.ibm_zos_core.plugins.module_utils.standin_spec import StandinFailure

FACTS_ENV = "IBM_ZOS_CORE_STANDIN_FACTS"
MAX_FIXTURE_BYTES = 1024 * 1024

BUNDLED_ZINFO = {
    "ipl": {
        "ieasym_card": "(00,L7)",
        "ipaloadxx": "L7",
        "ipl_volume": "ZOS31A",
        "load_param_device_num": "0A82",
        "load_param_dsn": "SYS0.IPLPARM",
        "master_catalog_dsn": "CATALOG.Z31A.MASTER",
        "master_catalog_volser": "ZOSCAT",
        "nucleus_id": "1",
        "operator_prompt_flag": "M",
        "parmlib_dsn": "SYS1.PARMLIB",
        "parmlib_volser": "ZOS31A",
    },
    "cpu": {
        "arch_level": "2",
        "cpc_nd_manufacturer": "IBM",
        "cpc_nd_model": "A01",
        "cpc_nd_plant": "02",
        "cpc_nd_seqno": "0000000ABCDE",
        "cpc_nd_type": "003931",
        "hw_name": "STANDIN",
        "lpar_name": "STNDLPAR",
        "vm_name": "",
    },
    "sys": {
        "primary_jes": "JES2",
        "product_mod_level": "00",
        "product_name": "z/OS",
        "product_owner": "IBM CORP",
        "product_release": "01",
        "product_version": "03",
        "smf_name": "STND",
        "sys_name": "STNDSYS",
        "sysplex_name": "LOCAL",
        "tsoe_rel": "01",
        "tsoe_ver": "3",
    },
    "iodf": {
        "edt": "00",
        "io_config_id": "00",
        "iodate": "",
        "iodesc": "",
        "iodf_config": "DEFAULT",
        "iodf_name": "SYS1.IODF00",
        "iodf_unit_addr": "0A82",
        "ioproc": "",
        "iotime": "",
    },
}


def load_zinfo(environ=None):
    """The zinfo-shaped facts dict from the fixture file, or the bundled one."""
    environ = os.environ if environ is None else environ
    path = environ.get(FACTS_ENV)
    if not path:
        return copy.deepcopy(BUNDLED_ZINFO)
    try:
        size = os.path.getsize(path)
        if size > MAX_FIXTURE_BYTES:
            raise StandinFailure("%s=%s is %d bytes; a facts fixture must stay under %d bytes"
                                 % (FACTS_ENV, path, size, MAX_FIXTURE_BYTES))
        with open(path, "rb") as handle:
            data = json.loads(handle.read().decode("utf-8"))
    except (OSError, IOError) as err:
        raise StandinFailure("cannot read the facts fixture %s=%s: %s" % (FACTS_ENV, path, err))
    except (ValueError, UnicodeDecodeError) as err:
        raise StandinFailure("the facts fixture %s=%s is not UTF-8 JSON: %s" % (FACTS_ENV, path, err))
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise StandinFailure("the facts fixture %s=%s must map subset names (ipl, cpu, sys, iodf) to objects"
                             % (FACTS_ENV, path))
    return data


def subsets_to_gather(gather_subset):
    """Sanitised subset names as the real module builds them; None for a bad one."""
    if gather_subset is None or "all" in gather_subset:
        return ["all"]
    subsets = []
    for subset in gather_subset:
        subset = subset.strip()
        if not subset or not subset.isalnum():
            return None
        subsets.append(subset)
    return subsets


def apply_filter(facts, filter_list):
    if not filter_list or "*" in filter_list:
        return facts
    return dict((key, value) for key, value in facts.items() if any(fnmatch(key, pattern) for pattern in filter_list))


def run_gather_facts(module):
    result = dict(changed=False, ansible_facts={})
    if module.check_mode:
        return result
    subsets = subsets_to_gather(module.params.get("gather_subset"))
    if not subsets:
        raise StandinFailure("An invalid subset was passed to Ansible.")
    zinfo = load_zinfo()
    if subsets != ["all"]:
        unknown = [subset for subset in subsets if subset not in zinfo]
        if unknown:
            raise StandinFailure("An invalid subset was detected.")
        zinfo = dict((subset, zinfo[subset]) for subset in subsets)
    flattened = {}
    for subset in zinfo:
        flattened.update(zinfo[subset])
    result["ansible_facts"] = apply_filter(flattened, module.params.get("filter"))
    return result
