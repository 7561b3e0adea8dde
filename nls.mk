# contrib/pg_standby/nls.mk
#
# The message catalog of the program pg_standby ("make init-po" and "make
# update-po" in a source tree configured with --enable-nls).  The archive
# module's messages are the server's, in the server's catalog.
CATALOG_NAME     = pg_standby
AVAIL_LANGUAGES  =
GETTEXT_FILES    = $(FRONTEND_COMMON_GETTEXT_FILES) \
                   archive_format.c cleanup.c datadir.c pg_standby.c promote.c \
                   readahead.c restore.c segbuf.c serverconf.c trigger.c \
                   verify.c verify_judge.c verify_read.c verify_report.c wait.c \
                   walfile.c walrecord.c \
                   ../../src/common/fe_memutils.c \
                   ../../src/fe_utils/option_utils.c
GETTEXT_TRIGGERS = $(FRONTEND_COMMON_GETTEXT_TRIGGERS) \
                   set_problem:3 add_finding:5 PROBLEM:2
GETTEXT_FLAGS    = $(FRONTEND_COMMON_GETTEXT_FLAGS) \
                   set_problem:3:c-format add_finding:5:c-format \
                   PROBLEM:2:c-format
