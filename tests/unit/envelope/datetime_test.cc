#include "cdc/envelope/datetime.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace cdc::envelope {
namespace {

int32_t Date(const std::string& text) {
  int32_t days = 0;
  absl::Status s = ParseDate(text, &days);
  EXPECT_TRUE(s.ok()) << text << ": " << s;
  EXPECT_EQ(FormatDate(days), text) << "round trip";
  return days;
}

int64_t Timestamp(const std::string& text) {
  int64_t micros = 0;
  absl::Status s = ParseTimestamp(text, &micros);
  EXPECT_TRUE(s.ok()) << text << ": " << s;
  EXPECT_EQ(FormatTimestamp(micros), text) << "round trip";
  return micros;
}

int64_t Timestamptz(const std::string& text) {
  int64_t micros = 0;
  absl::Status s = ParseTimestamptz(text, &micros);
  EXPECT_TRUE(s.ok()) << text << ": " << s;
  return micros;
}

IntervalParts Interval(const std::string& text) {
  IntervalParts parts;
  absl::Status s = ParseInterval(text, &parts);
  EXPECT_TRUE(s.ok()) << text << ": " << s;
  EXPECT_EQ(FormatInterval(parts), text) << "round trip";
  return parts;
}

TEST(DatetimeTest, CivilDaysRoundTripEveryDayOverCenturies) {
  for (int64_t days = -2500000; days < 2500000; days += 7) {
    int64_t year = 0;
    int month = 0, day = 0;
    CivilFromDays(days, &year, &month, &day);
    ASSERT_EQ(DaysFromCivil(year, month, day), days);
  }
}

TEST(DatetimeTest, Dates) {
  EXPECT_EQ(Date("1970-01-01"), 0);
  EXPECT_EQ(Date("1970-01-02"), 1);
  EXPECT_EQ(Date("1969-12-31"), -1);
  EXPECT_EQ(Date("2000-01-01"), 10957);
  EXPECT_EQ(Date("2024-02-29"), 19782);
  // 1 BC is year 0, a leap year in the proleptic Gregorian calendar.
  EXPECT_EQ(Date("0001-01-01 BC"), DaysFromCivil(0, 1, 1));
  EXPECT_EQ(Date("0001-02-29 BC"), DaysFromCivil(0, 2, 29));
  // PostgreSQL's first day (Julian day 0), and its last date.
  EXPECT_EQ(Date("4714-11-24 BC"), -2440588);
  EXPECT_EQ(Date("4713-01-01 BC"), DaysFromCivil(-4712, 1, 1));
  EXPECT_EQ(Date("5874897-12-31"), 2145042905);
  Date("294276-12-31");
  Date("0099-03-01");
}

TEST(DatetimeTest, BadDatesAreDataLoss) {
  int32_t days = 0;
  for (const char* bad :
       {"", "2024-02-30", "2023-02-29", "2024-13-01", "2024-00-10",
        "2024-01-00", "24-01-01", "2024-1-01", "2024-01-01 ", "2024-01-01 AD",
        "0000-01-01", "2024/01/01", "infinity", "2024-01-01BC",
        "99999999999-01-01"}) {
    absl::Status s = ParseDate(bad, &days);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << bad;
    EXPECT_NE(s.message().find("date"), absl::string_view::npos);
  }
}

TEST(DatetimeTest, Times) {
  int64_t micros = -1;
  ASSERT_TRUE(ParseTime("00:00:00", &micros).ok());
  EXPECT_EQ(micros, 0);
  ASSERT_TRUE(ParseTime("13:45:06.5", &micros).ok());
  EXPECT_EQ(micros, (13 * 3600 + 45 * 60 + 6) * kMicrosPerSecond + 500000);
  EXPECT_EQ(FormatTime(micros), "13:45:06.5");
  ASSERT_TRUE(ParseTime("23:59:59.999999", &micros).ok());
  EXPECT_EQ(FormatTime(micros), "23:59:59.999999");
  ASSERT_TRUE(ParseTime("24:00:00", &micros).ok());
  EXPECT_EQ(micros, kMicrosPerDay);
  EXPECT_EQ(FormatTime(micros), "24:00:00");
  EXPECT_EQ(FormatTime(1), "00:00:00.000001");
  for (const char* bad :
       {"24:00:01", "24:00:00.1", "12:60:00", "12:00:60", "1:00:00", "12:00",
        "12:00:00.1234567", "12:00:00.", "12:00:00+00", ""}) {
    EXPECT_EQ(ParseTime(bad, &micros).code(), absl::StatusCode::kDataLoss)
        << bad;
  }
}

TEST(DatetimeTest, Timestamps) {
  EXPECT_EQ(Timestamp("1970-01-01 00:00:00"), 0);
  EXPECT_EQ(Timestamp("1969-12-31 23:59:59.999999"), -1);
  EXPECT_EQ(
      Timestamp("2024-02-29 13:45:06.25"),
      (19782LL * 86400 + 13 * 3600 + 45 * 60 + 6) * kMicrosPerSecond + 250000);
  EXPECT_EQ(Timestamp("4714-11-24 00:00:00 BC"), -2440588LL * kMicrosPerDay);
  Timestamp("0001-12-31 23:59:59.5 BC");
  // The last timestamp int64 microseconds since 1970 can hold.
  EXPECT_EQ(Timestamp("294247-01-10 04:00:54.775807"),
            std::numeric_limits<int64_t>::max());
  int64_t micros = 0;
  EXPECT_EQ(ParseTimestamp("294247-01-10 04:00:54.775808", &micros).code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(ParseTimestamp("294276-12-31 23:59:59.999999", &micros).code(),
            absl::StatusCode::kOutOfRange);
  for (const char* bad :
       {"2024-01-01", "2024-01-01T00:00:00", "2024-01-01 24:00:00",
        "2024-01-01 00:00:00+00", "2024-01-01 00:00:00 BC ", "infinity",
        "2024-01-01  00:00:00"}) {
    EXPECT_EQ(ParseTimestamp(bad, &micros).code(), absl::StatusCode::kDataLoss)
        << bad;
  }
}

TEST(DatetimeTest, TimestamptzAppliesAnyOffset) {
  const int64_t utc = Timestamptz("2024-02-29 13:45:06.25+00");
  EXPECT_EQ(FormatTimestamptz(utc), "2024-02-29 13:45:06.25+00");
  EXPECT_EQ(Timestamptz("2024-02-29 15:45:06.25+02"), utc);
  EXPECT_EQ(Timestamptz("2024-02-29 08:15:06.25-05:30"), utc);
  EXPECT_EQ(Timestamptz("2024-02-29 13:45:16.25+00:00:10"), utc);
  const int64_t bc = Timestamptz("4714-11-24 00:00:00+00 BC");
  EXPECT_EQ(bc, -2440588LL * kMicrosPerDay);
  EXPECT_EQ(FormatTimestamptz(bc), "4714-11-24 00:00:00+00 BC");
  int64_t micros = 0;
  for (const char* bad : {"2024-02-29 13:45:06", "2024-02-29 13:45:06 UTC",
                          "2024-02-29 13:45:06+0", "2024-02-29 13:45:06+00:6",
                          "2024-02-29 13:45:06+00:60"}) {
    EXPECT_EQ(ParseTimestamptz(bad, &micros).code(),
              absl::StatusCode::kDataLoss)
        << bad;
  }
}

TEST(DatetimeTest, Intervals) {
  IntervalParts zero = Interval("PT0S");
  EXPECT_EQ(zero.months, 0);
  EXPECT_EQ(zero.micros, 0);
  IntervalParts p = Interval("P1Y2M3DT4H5M6.5S");
  EXPECT_EQ(p.months, 14);
  EXPECT_EQ(p.days, 3);
  EXPECT_EQ(p.micros, ((4 * 60 + 5) * 60 + 6) * kMicrosPerSecond + 500000);
  // Mixed signs, as '1 year -2 months 3 days -04:05:06.5' prints.
  p = Interval("P10M3DT-4H-5M-6.5S");
  EXPECT_EQ(p.months, 10);
  EXPECT_EQ(p.micros, -(((4 * 60 + 5) * 60 + 6) * kMicrosPerSecond + 500000));
  EXPECT_EQ(Interval("PT-0.5S").micros, -500000);
  EXPECT_EQ(Interval("P-7D").days, -7);
  EXPECT_EQ(Interval("P50Y").months, 600);
  EXPECT_EQ(Interval("P1MT-1S").micros, -kMicrosPerSecond);
  Interval("P-178000000Y");
  Interval("PT2562047788H54.775807S");
  Interval("PT-2562047788H-54.775808S");
  IntervalParts out;
  for (const char* bad :
       {"", "P", "PT", "1D", "P1", "P1X", "P1D1Y", "PT1Y", "P1.5D", "P1DT",
        "P--1D", "P1DT1H1H", "P999999999999Y"}) {
    EXPECT_EQ(ParseInterval(bad, &out).code(), absl::StatusCode::kDataLoss)
        << bad;
  }
}

}  // namespace
}  // namespace cdc::envelope
