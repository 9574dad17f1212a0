# -*- coding: utf-8 -*-
# Test stand-in for ibm.ibm_zos_core, NOT IBM's collection (see README.md).
"""Code set conversion for the stand-in, with a cp1047 (IBM-1047) codec.

Python's standard library has no cp1047, so it is built here from cp037 with the
six code points where IBM-1047 differs ([ ] ^ ¬ Ý ¨), and with the newline
convention of z/OS iconv: EBCDIC NL (0x15) <-> LF (0x0A), 0x25 <-> U+0085.
Importing this module registers the codec under the names cp1047 and ibm1047.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import codecs
import os
import tempfile


def _cp1047_decoding_table():
    table = list(bytes(bytearray(range(256))).decode("cp037"))
    # IBM-037 -> IBM-1047 differences.
    table[0x5F], table[0xB0] = u"^", u"\u00ac"
    table[0xAD], table[0xBA] = u"[", u"\u00dd"
    table[0xBD], table[0xBB] = u"]", u"\u00a8"
    # z/OS iconv maps EBCDIC NL to LF, so text lines survive a round trip.
    table[0x15], table[0x25] = u"\n", u"\u0085"
    return u"".join(table)


CP1047_DECODING_TABLE = _cp1047_decoding_table()
CP1047_ENCODING_TABLE = codecs.charmap_build(CP1047_DECODING_TABLE)


class _Cp1047Codec(codecs.Codec):
    def encode(self, text, errors="strict"):
        return codecs.charmap_encode(text, errors, CP1047_ENCODING_TABLE)

    def decode(self, data, errors="strict"):
        return codecs.charmap_decode(data, errors, CP1047_DECODING_TABLE)


class _Cp1047IncrementalEncoder(codecs.IncrementalEncoder):
    def encode(self, text, final=False):
        return codecs.charmap_encode(text, self.errors, CP1047_ENCODING_TABLE)[0]


class _Cp1047IncrementalDecoder(codecs.IncrementalDecoder):
    def decode(self, data, final=False):
        return codecs.charmap_decode(data, self.errors, CP1047_DECODING_TABLE)[0]


class _Cp1047StreamWriter(_Cp1047Codec, codecs.StreamWriter):
    pass


class _Cp1047StreamReader(_Cp1047Codec, codecs.StreamReader):
    pass


_CP1047_INFO = codecs.CodecInfo(
    name="cp1047",
    encode=_Cp1047Codec().encode,
    decode=_Cp1047Codec().decode,
    incrementalencoder=_Cp1047IncrementalEncoder,
    incrementaldecoder=_Cp1047IncrementalDecoder,
    streamwriter=_Cp1047StreamWriter,
    streamreader=_Cp1047StreamReader,
)


def _squash(name):
    return "".join(ch for ch in name.lower() if ch.isalnum())


def _search_cp1047(name):
    if _squash(name) in ("cp1047", "ibm1047", "1047"):
        return _CP1047_INFO
    return None


codecs.register(_search_cp1047)

# z/OS code set names -> Python codec names.
_CODESET_ALIASES = {
    "ibm1047": "cp1047",
    "cp1047": "cp1047",
    "1047": "cp1047",
    "ibm037": "cp037",
    "ibm37": "cp037",
    "cp037": "cp037",
    "ibm500": "cp500",
    "ibm1140": "cp1140",
    "iso88591": "latin-1",
    "latin1": "latin-1",
    "ibm819": "latin-1",
    "819": "latin-1",
    "utf8": "utf-8",
    "ibm1208": "utf-8",
    "1208": "utf-8",
    "usascii": "ascii",
    "ascii": "ascii",
    "iso885915": "iso8859-15",
}

CHUNK_SIZE = 64 * 1024


class CodesetError(ValueError):
    """A code set name the stand-in cannot convert."""


class ConversionError(ValueError):
    """Data that is not valid in the source code set or has no place in the target one."""


def python_codec(codeset):
    """Python codec name for a z/OS code set name such as IBM-1047 or ISO8859-1."""
    if not isinstance(codeset, str) or not codeset.strip():
        raise CodesetError("Invalid codeset: %r" % (codeset,))
    squashed = _squash(codeset)
    if squashed in _CODESET_ALIASES:
        return _CODESET_ALIASES[squashed]
    try:
        info = codecs.lookup(codeset.strip())
    except LookupError:
        info = None
    # Python also has bytes-to-bytes codecs (base64, zlib...); those are no code sets.
    if info is None or not getattr(info, "_is_text_encoding", True):
        raise CodesetError("Invalid codeset: %s is not a code set the stand-in can convert" % codeset)
    return info.name


def same_codeset(first, second):
    """True when two code set names mean the same conversion table."""
    return python_codec(first) == python_codec(second)


def convert_bytes(data, from_codeset, to_codeset):
    """Convert a whole byte string; raise ConversionError on data that does not fit."""
    try:
        return data.decode(python_codec(from_codeset)).encode(python_codec(to_codeset))
    except UnicodeError as err:
        raise ConversionError("cannot convert from %s to %s: %s" % (from_codeset, to_codeset, err))


def convert_file(src, dest, from_codeset, to_codeset):
    """Convert src into dest in chunks (src may equal dest); dest is replaced atomically.

    Raises ConversionError naming the file when its bytes do not fit the code sets.
    """
    decoder = codecs.getincrementaldecoder(python_codec(from_codeset))(errors="strict")
    encoder = codecs.getincrementalencoder(python_codec(to_codeset))(errors="strict")
    dest_dir = os.path.dirname(os.path.abspath(dest))
    fd, temp_path = tempfile.mkstemp(prefix=".standin-conv-", dir=dest_dir)
    try:
        with os.fdopen(fd, "wb") as out, open(src, "rb") as infile:
            while True:
                block = infile.read(CHUNK_SIZE)
                final = not block
                try:
                    out.write(encoder.encode(decoder.decode(block, final), final))
                except UnicodeError as err:
                    raise ConversionError(
                        "cannot convert %s from %s to %s: %s" % (src, from_codeset, to_codeset, err)
                    )
                if final:
                    break
        if os.path.exists(dest):
            os.chmod(temp_path, os.stat(dest).st_mode & 0o7777)
        else:
            os.chmod(temp_path, os.stat(src).st_mode & 0o7777)
        os.replace(temp_path, dest)
    except BaseException:
        if os.path.exists(temp_path):
            os.remove(temp_path)
        raise


def check_convertible(path, from_codeset, to_codeset):
    """Raise ConversionError if the file at path would not convert (reads it, writes nothing)."""
    decoder = codecs.getincrementaldecoder(python_codec(from_codeset))(errors="strict")
    encoder = codecs.getincrementalencoder(python_codec(to_codeset))(errors="strict")
    with open(path, "rb") as infile:
        while True:
            block = infile.read(CHUNK_SIZE)
            final = not block
            try:
                encoder.encode(decoder.decode(block, final), final)
            except UnicodeError as err:
                raise ConversionError("cannot convert %s from %s to %s: %s" % (path, from_codeset, to_codeset, err))
            if final:
                return
