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
    cached = format(wall / 1000);
    refreshAt = t + (1000 - wall % 1000);
  }
  return cached;
}
function pad2(n: i32): string {
  return n < 10 ? "0" + n.toString() : n.toString();
}

/** Civil date from days since the epoch (Howard Hinnant's days_from_civil, inverted). */
function format(epochSeconds: i64): string {
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
