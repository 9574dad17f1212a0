# Objects of libstrkit.a
LIB_OBJS = \
	src/angle.o \
	src/bytes.o \
	src/center.o \
	src/copy.o \
	src/count.o \
	src/cpus.o \
	src/ends.o \
	src/find.o \
	src/hibit.o \
	src/isnum.o \
	src/join.o \
	src/lower.o \
	src/pad.o \
	src/repeat.o \
	src/replace.o \
	src/reverse.o \
	src/split.o \
	src/squeeze.o \
	src/starts.o \
	src/stats.o \
	src/title.o \
	src/trim.o \
	src/upper.o \
	src/Version.o
