# pg_standby: restore_command for a warm standby, built with PGXS or in
# contrib/pg_standby of a PostgreSQL source tree.

PGFILEDESC = "pg_standby - restore_command for a warm standby"
PGAPPICON = win32

PROGRAM = pg_standby
OBJS = \
	$(WIN32RES) \
	cleanup.o \
	datadir.o \
	pg_standby.o \
	restore.o \
	serverconf.o \
	wait.o \
	walfile.o

PG_LIBS_INTERNAL = -L$(top_builddir)/src/fe_utils -L$(pkglibdir) -lpgfeutils

# "make installcheck" needs no running server: pg_regress starts a
# temporary instance that archives, and the TAP tests start their own.
REGRESS = backup_functions
REGRESS_OPTS = --temp-instance=./tmp_regress --temp-config=$(srcdir)/sql/archiving.conf
TAP_TESTS = 1
EXTRA_CLEAN = tmp_regress

ifdef USE_PGXS
# A program has no use for LLVM bitcode.
override with_llvm = no
PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)
# LIBS names every library the server links; pg_standby needs only these.
LIBS := $(filter -lpgcommon -lpgport -lm,$(LIBS))
else
subdir = contrib/pg_standby
top_builddir = ../..
include $(top_builddir)/src/Makefile.global
include $(top_srcdir)/contrib/contrib-global.mk
endif
