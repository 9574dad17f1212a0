# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""What IBM documents z/OS message ids to mean, as error categories (record.CATEGORIES).

One table per family (CCN, IEW, CEE, EDC, FSUM). An id is listed only when its meaning was
read in IBM's documentation, in an IBM support page, in a public build file quoting IBM's
text, or in the shared corpus (../shared/corpus/zos-messages.jsonl) with its text; each
entry says which (``evidence``). Coverage is small and stated honestly by ``coverage()``:
IBM documents thousands of ids, this table holds the ones seen. Ids not listed are
classified by their family and number range and by their wording (message_classify).

``follow_up`` marks ids that only report that an earlier step failed.

Standard library only: this runs on build hosts (z/OS included).
"""

from __future__ import annotations

# Where each family is documented.
FAMILY_SOURCES = {
    "CCN": {
        "document": "z/OS XL C/C++ Messages (GC14-7305), chapter 'z/OS XL C/C++ compiler return codes and messages'",
        "url": "https://www.ibm.com/docs/en/SSLTBW_3.1.0/pdf/cbcdg01_v3r1.pdf",
    },
    "IEW": {
        "document": "z/OS MVS System Messages, Vol 8 (IEF-IGD): binder messages IEW2nnn "
                    "(referenced from z/OS MVS Program Management: Advanced Facilities, SA23-1392)",
        "url": "https://ibm.com/support/knowledgecenter/en/SSLTBW_2.1.0/com.ibm.zos.v2r1.ieab200/iea3b2_Messages_and_codes.htm",
    },
    "CEE": {
        "document": "z/OS Language Environment Runtime Messages (SA38-0686), 'Language Environment runtime messages'",
        "url": "https://ibm.com/docs/en/SSLTBW_2.1.0/com.ibm.zos.v2r1.ceea900/toc.htm",
    },
    "EDC": {
        "document": "z/OS Language Environment Runtime Messages (SA38-0686), 'XL C/C++ runtime messages'; EDC5nnnI is errno nnn "
                    "as listed in z/OS UNIX System Services Messages and Codes, 'Return codes (errnos)'",
        "url": "https://ibm.com/docs/SSLTBW_2.4.0/com.ibm.zos.v2r4.bpxa800/errno.htm",
    },
    "FSUM": {
        "document": "z/OS UNIX System Services Messages and Codes (SA23-2284), 'Shell and Utilities messages'",
        "url": "https://www.ibm.com/docs/en/SSLTBW_2.2.0/com.ibm.zos.v2r2.bpxa800/toc.htm",
    },
}

# Kinds of evidence behind an entry.
_IBM = "IBM documentation page"
_SUPPORT = "IBM support page"
# Quoted texts: CCN3296, CCN3944, CCN3963, CCN3290, CCN4108 in mksh's Build.sh; CCN3159,
# CCN4108 in perl's hints/os390.sh; CCN3196-CCN3997 warnings in
# the comments of a public z/OS makefile; CCN3211, CCN3766 in eclipse-openj9/openj9#10208.
_QUOTED = "IBM text quoted in a public build file or issue thread"
# IEW2278I, IEW2322I in binder listings published in public gists and vendor articles.
_LISTING = "binder listing published with its output"
_CORPUS = "shared corpus message"
_EARLIER = "earlier number table (XL C 1506-nnn numbering), text not re-read here"

# id: (category or None for a pure follow-up, follow_up, documented text, evidence)
_CCN = {
    "CCN0702": ("toolchain", False, "An error was encountered in accessing the alternate ddname table.", _IBM),
    "CCN0703": ("toolchain", False, "An error was encountered in a call to &1 while processing &2.", _IBM),
    "CCN0704": ("toolchain", False, "There are no files with the default extension in &1.", _IBM),
    "CCN0705": ("toolchain", False, "The output file &1 is not supported in combination with source file &2.", _IBM),
    "CCN0709": ("toolchain", False, "The source file is a Sequential data set. The suboption should specify ...", _IBM),
    "CCN0712": ("toolchain", False, "The source file is a UNIX file. The suboption should specify ...", _IBM),
    "CCN0713": ("toolchain", False, "The source file is a UNIX directory. The suboption should specify ...", _IBM),
    "CCN0721": ("toolchain", False, "Option \"&1\" cannot be specified with option \"&2\". Option \"&3\" is ignored.", _IBM),
    "CCN0767": ("toolchain", False, "The \"&1\" feature of z/OS is not enabled.", _CORPUS),
    "CCN0793": (None, True, "Compilation failed for file &1. Object file not created.", _CORPUS),
    "CCN3022": ("undeclared-identifier", False, "\"&1\" is not a member of \"&2\".", _EARLIER),
    "CCN3045": ("undeclared-identifier", False, "Undeclared identifier &1.", _CORPUS),
    "CCN3068": ("type-error", False, "Operation between types \"&1\" and \"&2\" is not allowed.", _EARLIER),
    "CCN3196": ("type-error", False, "Initialization between types \"&1\" and \"&2\" is not allowed.", _QUOTED),
    "CCN3159": ("type-error", False, "Bit field type specified for &1 is not valid. Type &2 assumed.", _QUOTED),
    "CCN3205": ("unsupported-feature", False, "#error directive text.", _EARLIER),
    "CCN3211": ("other", False, "Parameter list must be empty, or consist of one or more identifiers separated by commas.", _QUOTED),
    "CCN3224": ("unsupported-feature", False, "Incorrect pragma ignored.", _QUOTED),
    "CCN3280": ("type-error", False, "Function argument assignment between types \"&1\" and \"&2\" is not allowed.", _QUOTED),
    "CCN3290": ("other", False, "Unknown macro name &1 on #undef directive.", _QUOTED),
    "CCN3296": ("missing-header", False, "#include file &1 not found.", _QUOTED),
    "CCN3300": ("resource-limit", False, "Insufficient storage available to complete the compilation.", _EARLIER),
    "CCN3304": ("implicit-function", False, "No function prototype given for \"&1\".", _QUOTED),
    "CCN3334": ("conflicting-declaration", False, "Identifier &1 has already been defined on line &2 of \"&3\".", _EARLIER),
    "CCN3343": ("conflicting-declaration", False, "Redeclaration of &1 differs from previous declaration on line &2 of \"&3\".", _CORPUS),
    "CCN3409": ("other", False, "The static variable \"&1\" is defined but never referenced.", _QUOTED),
    "CCN3413": ("other", False, "A goto statement is used.", _QUOTED),
    "CCN3415": ("other", False, "The external function definition \"&1\" is never referenced.", _QUOTED),
    "CCN3419": ("type-error", False, "Converting &1 to type \"&2\" does not preserve its value.", _QUOTED),
    "CCN3420": ("type-error", False, "An unsigned comparison is performed between an unsigned value and a negative constant.", _QUOTED),
    "CCN3425": ("other", False, "The condition is always false.", _QUOTED),
    "CCN3426": ("other", False, "An assignment expression is used as a condition.", _QUOTED),
    "CCN3434": ("other", False, "The left-hand side of a bitwise right shift expression has a signed promoted type.", _QUOTED),
    "CCN3438": ("other", False, "The variable \"&1\" might be used before it is set.", _QUOTED),
    "CCN3446": ("other", False, "Array element(s) [&1] ... [&2] will be initialized with a default value of 0.", _QUOTED),
    "CCN3447": ("other", False, "The member(s) starting from \"&1\" will be initialized with a default value of 0.", _QUOTED),
    "CCN3449": ("other", False, "Missing return expression.", _QUOTED),
    "CCN3450": ("other", False, "Obsolete non-prototype-style function declaration.", _QUOTED),
    "CCN3451": ("type-error", False, "The target integral type cannot hold all possible values of the source integral type.", _QUOTED),
    "CCN3457": ("other", False, "File &1 has already been included.", _QUOTED),
    "CCN3493": ("other", False, "The external variable \"&1\" is defined but never referenced.", _QUOTED),
    "CCN3495": ("type-error", False, "Pointer type conversion found.", _QUOTED),
    "CCN3766": ("encoding", False, "The universal character name \"&1\" is not in the allowable range for an identifier.", _QUOTED),
    "CCN3944": ("unsupported-feature", False, "Attribute \"&1\" is not supported and is ignored.", _QUOTED),
    "CCN3963": ("unsupported-feature", False, "The attribute \"&1\" is not a valid variable attribute and is ignored.", _QUOTED),
    "CCN3997": ("other", False, "Structure members cannot follow a flexible array member/zero extent array.", _QUOTED),
    "CCN4108": ("unsupported-feature", False, "The use of keyword &1 is non-portable.", _QUOTED),
}

# Binder ids are quoted with their severity letter (IEW2456E); the table keys omit it.
_IEW = {
    "IEW2278": ("other", False, "INVOCATION PARAMETERS - &1", _LISTING),
    "IEW2322": ("other", False, "(echo of a binder control statement)", _LISTING),
    "IEW2416": ("conflicting-declaration", False, "SECTION &1 CONFLICTS WITH AN EXISTING EXTERNAL LABEL OF THE SAME NAME.", _CORPUS),
    "IEW2454": ("unresolved-symbol", False, "SYMBOL &1 UNRESOLVED. NO AUTOCALL (NCAL) SPECIFIED.", _SUPPORT),
    "IEW2456": ("unresolved-symbol", False, "SYMBOL &1 UNRESOLVED. MEMBER COULD NOT BE INCLUDED FROM THE DESIGNATED CALL LIBRARY.", _SUPPORT),
    "IEW2469": ("toolchain", False, "THE ATTRIBUTES OF A REFERENCE TO &1 FROM SECTION &2 DO NOT MATCH THE ATTRIBUTES OF THE TARGET SYMBOL.",
                _CORPUS),
    "IEW2756": ("resource-limit", False, "SPACE IS NOT AVAILABLE", _CORPUS),
}

# CEE3201-CEE3215: program interrupts. IBM lists the conditions CEE341-CEE34F (operation,
# privileged operation, execute, protection, addressing, specification, data, fixed-point
# overflow and divide, decimal overflow and divide, exponent overflow and underflow,
# significance, floating-point divide); a condition's message number is its symbolic
# code read in base 32 (CEE348 is message 3208, as IBM's table of arithmetic interrupts
# states), and IBM quotes CEE3206S, CEE3209S, CEE3210S and CEE3211S with these texts.
_INTERRUPTS = ("operation", "privileged-operation", "execute", "protection", "addressing", "specification", "data",
               "fixed-point overflow", "fixed-point divide", "decimal-overflow", "decimal-divide", "exponent-overflow",
               "exponent-underflow", "significance", "floating-point divide")


def _interrupt_entries() -> dict:
    entries = {}
    for index, name in enumerate(_INTERRUPTS):
        article = "an" if name[0] in "aeiou" else "a"
        entries["CEE%d" % (3201 + index)] = ("runtime", False, "The system detected %s %s exception." % (article, name), _IBM)
    return entries


_CEE = _interrupt_entries()
_CEE.update({
    "CEE3224": ("runtime", False, "IEEE divide-by-zero condition (APAR PI23475).", _SUPPORT),
    "CEE3558": ("runtime", False, "DLL &1 does not export any variables.", _IBM),
    "CEE3559": ("runtime", False, "External variable &1 was not found in DLL &2.", _IBM),
    "CEE3560": ("runtime", False, "DLL &1 does not export any functions.", _IBM),
    "CEE3561": ("runtime", False, "External function &1 was not found in DLL &2.", _IBM),
    "CEE3576": ("runtime", False, "External function &1 was not found in DLL &2.", _IBM),
    "CEE3577": ("runtime", False, "The external function was not found in DLL &1.", _IBM),
    "CEE3594": ("runtime", False, "External symbol &1 was not found as a result of a search of the global symbol object.", _IBM),
})

# z/OS UNIX errnos as IBM lists them (decimal value: name, category); EDC5nnnI is errno nnn.
_ERRNOS = {
    111: ("EACCES", "environment"), 112: ("EAGAIN", "resource-limit"), 113: ("EBADF", "runtime"),
    114: ("EBUSY", "environment"), 115: ("ECHILD", "runtime"), 116: ("EDEADLK", "runtime"), 117: ("EEXIST", "environment"),
    118: ("EFAULT", "runtime"), 119: ("EFBIG", "resource-limit"), 120: ("EINTR", "runtime"), 121: ("EINVAL", "runtime"),
    122: ("EIO", "environment"), 123: ("EISDIR", "environment"), 124: ("EMFILE", "resource-limit"),
    125: ("EMLINK", "resource-limit"), 126: ("ENAMETOOLONG", "environment"), 127: ("ENFILE", "resource-limit"),
    128: ("ENODEV", "environment"), 129: ("ENOENT", "environment"),
}

# FSUM ids carry no severity letter.
_FSUM = {
    "FSUM3010": ("toolchain", False, "Specify a file with the correct suffix (...), or a corresponding data set name, instead of &1.", _CORPUS),
    "FSUM3065": (None, True, "The &1 step ended with return code &2.", _CORPUS),
    "FSUM3090": ("toolchain", False, "Usage: c89 [-CcEgOrsVv0123] ...", _IBM),
    "FSUM7261": ("environment", False, "&1: Unknown terminal type, using dumb.", _CORPUS),
    "FSUM7332": ("encoding", False, "syntax error: got &1, expecting &2", _CORPUS),
    "FSUM7338": ("environment", False, "execute: internal error (&1)", _IBM),
    "FSUM7343": ("environment", False, "cannot open \"&1\" for output: &2", _CORPUS),
    "FSUM9435": ("build-system", False, "Empty recipe for special target &1", _CORPUS),
}


def _errno_entries() -> dict:
    return dict(
        ("EDC5%d" % number, (category, False, "%s (errno %d)" % (name, number), _IBM)) for number, (name, category) in _ERRNOS.items()
    )


MESSAGE_IDS = {"CCN": _CCN, "IEW": _IEW, "CEE": _CEE, "EDC": _errno_entries(), "FSUM": _FSUM}


def table_key(ident: dict) -> str:
    """The key of a parsed id (message_classify.parse_message_id) in MESSAGE_IDS: no severity letter."""
    family = ident["family"]
    return family + ident["digits"]


def documented(ident: dict | None) -> dict | None:
    """The table entry for a parsed id: {category, follow_up, text, evidence, source}, None if not listed."""
    if ident is None:
        return None
    entry = MESSAGE_IDS.get(ident["family"], {}).get(table_key(ident))
    if entry is None:
        return None
    category, follow_up, text, evidence = entry
    return {"category": category, "follow_up": follow_up, "text": text, "evidence": evidence,
            "source": FAMILY_SOURCES[ident["family"]]["document"]}


def coverage() -> dict:
    """Per family: how many ids the table holds, by kind of evidence."""
    result = {}
    for family, table in MESSAGE_IDS.items():
        counts = {}
        for entry in table.values():
            counts[entry[3]] = counts.get(entry[3], 0) + 1
        result[family] = {"ids": len(table), "by_evidence": counts}
    return result
