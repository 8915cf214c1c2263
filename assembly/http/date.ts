// The Date header value (RFC 9110 IMF-fixdate), formatted once per wall-clock second. Between refreshes the
// loop's cached monotonic time says whether a second boundary has passed, so a request costs no clock call.
import { realtimeMs } from "../sys";
import { now } from "../tasks";

const DAYS = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]; // 1970-01-01 was a Thursday
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

let refreshAt: i64 = i64.MIN_VALUE; // loop time at which the next wall-clock second starts
let cached = "";

export function httpDate(): string {
  const t = now();
  if (t >= refreshAt) {
    const wall = realtimeMs();
    cached = formatHttpDate(wall / 1000);
    refreshAt = t + (1000 - wall % 1000);
  }
  return cached;
}
function pad2(n: i32): string {
  return n < 10 ? "0" + n.toString() : n.toString();
}

/** IMF-fixdate of a time in seconds since the epoch (RFC 9110 §5.6.7), e.g. for Last-Modified. */
export function formatHttpDate(epochSeconds: i64): string {
  // Civil date from days since the epoch (Howard Hinnant's days_from_civil, inverted).
  const days = <i32>(epochSeconds / 86400);
  const secs = <i32>(epochSeconds % 86400);
  const z = days + 719468;
  const era = z / 146097;
  const doe = z - era * 146097;
  const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const mp = (5 * doy + 2) / 153;
  const day = doy - (153 * mp + 2) / 5 + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return DAYS[days % 7] + ", " + pad2(day) + " " + MONTHS[month - 1] + " " + year.toString() + " " +
    pad2(secs / 3600) + ":" + pad2((secs / 60) % 60) + ":" + pad2(secs % 60) + " GMT";
}

/**
 * Seconds since the epoch of an HTTP-date in any of the three forms a recipient must accept (RFC 9110 §5.6.7):
 * IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", the obsolete RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT" (a
 * two-digit year is 19xx from 70, else 20xx) and asctime "Sun Nov  6 08:49:37 1994"; -1 for anything else.
 */
export function parseHttpDate(text: string): i64 {
  let day: i32, month: i32, year: i32, time: i32;
  const comma = text.indexOf(",");
  if (comma > 0) {
    const at = comma + 2;
    if (text.charCodeAt(comma + 1) != 0x20) return -1;
    const sep = text.charCodeAt(at + 2);
    const yearDigits = sep == 0x20 ? 4 : 2;
    if ((sep != 0x20 && sep != 0x2d) || text.charCodeAt(at + 6) != sep) return -1;
    day = digits(text, at, 2);
    month = MONTHS.indexOf(text.substr(at + 3, 3)) + 1;
    year = digits(text, at + 7, yearDigits);
    if (yearDigits == 2 && year >= 0) year += year >= 70 ? 1900 : 2000;
    time = at + 8 + yearDigits;
    if (text.length != time + 12 || text.charCodeAt(time - 1) != 0x20 || text.substr(time + 8) != " GMT") return -1;
  } else {
    if (text.length != 24 || text.charCodeAt(3) != 0x20 || text.charCodeAt(7) != 0x20 || text.charCodeAt(10) != 0x20 || text.charCodeAt(19) != 0x20) return -1;
    month = MONTHS.indexOf(text.substr(4, 3)) + 1;
    day = text.charCodeAt(8) == 0x20 ? digits(text, 9, 1) : digits(text, 8, 2);
    year = digits(text, 20, 4);
    time = 11;
  }
  const hour = digits(text, time, 2);
  const minute = digits(text, time + 3, 2);
  const second = digits(text, time + 6, 2);
  if (month < 1 || day < 1 || day > 31 || year < 0 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
      second < 0 || second > 60 || text.charCodeAt(time + 2) != 0x3a || text.charCodeAt(time + 5) != 0x3a) return -1;
  return daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
}

/** The decimal number in text[at, at+n), or -1 unless all n are digits. */
function digits(text: string, at: i32, n: i32): i32 {
  if (at < 0 || at + n > text.length) return -1;
  let value = 0;
  for (let i = at; i < at + n; i++) {
    const c = text.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) return -1;
    value = value * 10 + c;
  }
  return value;
}

/** Days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil). */
function daysFromCivil(year: i32, month: i32, day: i32): i64 {
  const y = month <= 2 ? year - 1 : year;
  const era = y / 400; // HTTP-dates are after year 0
  const yoe = y - era * 400;
  const doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return <i64>era * 146097 + <i64>doe - 719468;
}
