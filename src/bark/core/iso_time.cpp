// UTC ISO-8601 formatting.
#include "bark/core/iso_time.hpp"

#include <chrono>
#include <ctime>

#include <fmt/format.h>

namespace bark {

namespace {

// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's civil_from_days):
// every message carries one or more timestamps, and gmtime_r plus a format string cost thousands of
// instructions each.
struct civil {
    std::int64_t year;
    unsigned month;  // 1..12
    unsigned day;    // 1..31
};
civil civil_from_days(std::int64_t z) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);                 // [0, 146096]
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);              // [0, 365]
    const unsigned mp = (5 * doy + 2) / 153;                                   // [0, 11]
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;                           // [1, 31]
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;                              // [1, 12]
    return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

void put(char*& p, unsigned v, int digits) {
    for (int i = digits - 1; i >= 0; --i) {
        p[i] = static_cast<char>('0' + v % 10);
        v /= 10;
    }
    p += digits;
}

}  // namespace

std::string iso_time(std::int64_t ms) {
    // Floor division, so instants before 1970 count back from the second before.
    const std::int64_t secs = ms / 1000 - (ms % 1000 < 0 ? 1 : 0);
    const auto millis = static_cast<unsigned>(ms - secs * 1000);
    const std::int64_t days = secs / 86400 - (secs % 86400 < 0 ? 1 : 0);
    const auto in_day = static_cast<unsigned>(secs - days * 86400);
    const civil c = civil_from_days(days);
    if (c.year < 0 || c.year > 9999) {
        // Outside four-digit years (never a chat timestamp): the general, slow path.
        const std::time_t t = static_cast<std::time_t>(secs);
        std::tm tm{};
        gmtime_r(&t, &tm);
        return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", std::int64_t{tm.tm_year} + 1900, tm.tm_mon + 1,
                           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
    }
    std::string out(24, '\0');
    char* p = out.data();
    put(p, static_cast<unsigned>(c.year), 4);
    *p++ = '-';
    put(p, c.month, 2);
    *p++ = '-';
    put(p, c.day, 2);
    *p++ = 'T';
    put(p, in_day / 3600, 2);
    *p++ = ':';
    put(p, in_day / 60 % 60, 2);
    *p++ = ':';
    put(p, in_day % 60, 2);
    *p++ = '.';
    put(p, millis, 3);
    *p = 'Z';
    return out;
}

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace bark
