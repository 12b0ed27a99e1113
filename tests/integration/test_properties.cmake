# Properties of single integration tests, read by ctest after the tests
# gtest_discover_tests found are defined (the directory's TEST_INCLUDE_FILES,
# see CMakeLists.txt), which can set properties only for a whole binary.
# A name that is not (or not yet) discovered is ignored.
#
# Every wait in a test has a bound, and a test's bounds add up to less than
# its ctest TIMEOUT (600 s for integration tests): a test that hangs then
# fails with its own message, and its fixture stops its PostgreSQL and shows
# pgcdc's log, instead of being killed by ctest with neither.

# The 5,000,000-row transaction, measured on two shared cores: 80 s and
# 102 s in all (insert and commit 23 s and 18 s, confirmed 41 s and 68 s
# after the commit). Its bounds: two cluster starts (pg_ctl -t 60 each)
# 120 s, StartPgcdc 30 s, WaitCaughtUp 30 s and 420 s (the confirmation),
# StopPgcdc 30 s, the read-back 22 s: 652 s, plus the INSERT itself (one
# statement, unbounded) and initdb. It used to wait up to 900 s for the
# confirmation alone, past the 600 s after which ctest killed it.
set_tests_properties(StreamingTest.FiveMillionRowTransactionStaysUnder128MiB
  PROPERTIES TIMEOUT 900)

# Failover slots need PostgreSQL 17 or later (PGCDC_PG_BINDIR; CI runs them
# on 18, labelled in pg18_tests.cmake). On an older server they skip, saying
# so. The promotion test's bounds: two cluster starts and a base
# backup (pg_ctl -t 60 each) 120 s, the standby streaming 30 s, StartPgcdc
# 30 s, the slot synchronised 120 s, check and status 120 s, promotion 60 s,
# pgcdc resuming 60 s (or StartPgcdc 30 s), the writer 30 s, WaitCaughtUp
# 60 s, StopPgcdc 30 s: 660 s at most; 35 to 65 s when all is well.
set_tests_properties(FailoverTest.SlotSurvivesPromotionUnderLoad
  FailoverTest.RestartedPgcdcResumesFromThePromotedCopy
  FailoverTest.ExistingSlotIsSwitchedToFailover
  FailoverTest.SlotInUseIsSwitchedWhenTakenOver
  FailoverTest.NeverModeCreatesAFailoverSlot
  PROPERTIES TIMEOUT 900)
