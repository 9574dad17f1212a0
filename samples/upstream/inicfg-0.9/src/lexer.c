/* lexer.c - character classes of the INI syntax */
#include <ctype.h>
#include <limits.h>
#include "inicfg.h"

int ini_char_class(int c)
{
    if (c >= 0 && c <= UCHAR_MAX && isalnum(c))
        return INI_WORD;
    switch (c) {
    case '_':
    case '.':
    case '-':
        return INI_WORD;
    case ' ':
    case '\t':
        return INI_SPACE;
    case '=':
        return INI_EQUALS;
    case '[':
        return INI_OPEN;
    case ']':
        return INI_CLOSE;
    case ';':
    case '#':
        return INI_COMMENT;
    default:
        return INI_OTHER;
    }
}
