/* banned.h - calls that are too easy to get wrong, made compile errors
 * (after git's banned.h).  Included into every translation unit. */
#ifndef NX_BANNED_H
#define NX_BANNED_H

#define NX_BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) NX_BANNED(strcpy)
#undef strcat
#define strcat(x, y) NX_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) NX_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) NX_BANNED(strncat)
#undef strtok
#define strtok(x, y) NX_BANNED(strtok)
#undef sprintf
#define sprintf(...) NX_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) NX_BANNED(vsprintf)
#undef gets
#define gets(x) NX_BANNED(gets)
#undef atoi
#define atoi(x) NX_BANNED(atoi)

#endif
