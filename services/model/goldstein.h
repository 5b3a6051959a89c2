// Goldstein cooperation-conflict scores of events, as integers in tenths
// (-100 ... +100 stands for -10.0 ... +10.0). Integers, so that sums in the
// relationship state are exact and independent of the order of addition.
//
// With a CAMEO code (`Event.cameo_code`): the Goldstein value of that code
// in the CAMEO 1.1b3 scale (Goldstein 1992 as adapted to CAMEO; the table in
// goldstein.cc covers the 20 root codes 01-20, their 3-digit codes and the
// 4-digit codes whose value differs from their parent's). A code not in the
// table falls back to its 3-digit parent ("0369" -> "036"), then to its
// 2-digit root ("0999" -> "09"). Leading zeros are significant: "036" is
// "express intent to meet" (+4.0) while "36" is no CAMEO code at all (the
// roots are "01" to "20"). A code that neither it nor its parent nor its
// root is in the table ("36", "21", "2999") scores as if no code were given.
//
// Without a (usable) code, the default for the event's kind:
//
//   kind          | case                        | score | CAMEO analogue
//   --------------+-----------------------------+-------+------------------
//   meeting       | outcome AGREEMENT           |  +6.0 | between 046, 057
//                 | outcome PROGRESS            |  +4.0 | 036/04 "consult"
//                 | outcome PLANNED             |  +4.0 | 036 intent to meet
//                 | outcome unspecified         |  +2.5 | 044 meet
//                 | outcome NO_AGREEMENT        |  +1.0 | 04 consult
//                 | outcome COLLAPSED           |  -3.0 | 12x reject
//   agreement     | any                         |  +8.0 | 057 sign agreement
//   resolution    | TABLED, CO_SPONSORED        |  -2.0 | 11x disapprove
//   (assumed      | DECLINED_TO_TABLE           |  +1.0 | 04 (conciliatory)
//    critical of  | ADOPTED                     |  -2.0 | 11x disapprove
//    the target)  | REJECTED, VETOED, unspec.   |   0.0 |
//   statement     | SUPPORTIVE                  |  +3.0 | 05x/051 praise
//                 | CONCILIATORY                |  +2.0 |
//                 | NEUTRAL, unspecified        |   0.0 | 01 statement
//                 | CRITICAL                    |  -2.0 | 11 disapprove
//                 | HOSTILE                     |  -5.0 | 10/13 demand, threat
//   sanction      | IMPOSED                     |  -8.0 | (163 is -6.5)
//                 | EXTENDED                    |  -4.0 | 16 reduce relations
//                 | EASED                       |  +5.0 | 081 ease sanctions
//                 | LIFTED                      |  +7.0 | 08x, stronger
//                 | unspecified                 |   0.0 |
//   military      | WEAPONS_TEST                |  -7.0 | 15x force posture
//                 | EXERCISE                    |  -6.0 | 15x, weaker
//                 | DEPLOYMENT, unspecified     |  -7.2 | 15 force posture
//                 | USE_OF_FORCE                | -10.0 | 19 fight
//   humanitarian  | RETURN                      |  +7.0 | 0841 return persons
//                 | AID                         |  +7.4 | 073 humanitarian aid
//                 | FAMILY_REUNION              |  +7.0 | 08x yield
//                 | INVESTIGATION, unspecified  |  +3.0 | 03x intent, coop.
//                 | REPORT                      |  -2.0 | 11x criticise
//   policy_change | SOFTENING                   |  +5.0 | 08 yield
//                 | NEUTRAL, unspecified        |   0.0 |
//                 | HARDENING                   |  -4.0 | 16 reduce relations
//   correction    | (never scored: resolved before projection)  0.0
//
// All functions are pure and thread-safe.
#ifndef ANNALS_SERVICES_MODEL_GOLDSTEIN_H_
#define ANNALS_SERVICES_MODEL_GOLDSTEIN_H_

#include "absl/strings/string_view.h"
#include "annals/v1/event.pb.h"

namespace annals::services {

// Lowest and highest scores, in tenths.
inline constexpr int kMinGoldsteinTenths = -100;
inline constexpr int kMaxGoldsteinTenths = 100;

// Sentinel returned by CameoGoldsteinTenths for a code it cannot score.
inline constexpr int kNoGoldstein = -1000;

// The score of `cameo_code` in tenths, with the fallback to the 3-digit
// parent and the 2-digit root described above; kNoGoldstein when the code
// is empty, not 2 to 4 digits, or neither it nor its parent nor its root is
// a CAMEO code.
int CameoGoldsteinTenths(absl::string_view cameo_code);

// The default score of `event` by its kind (table above), ignoring its
// CAMEO code.
int DefaultGoldsteinTenths(const v1::Event& event);

// The score of `event`: CameoGoldsteinTenths of its code when that scores,
// else DefaultGoldsteinTenths. Always within [-100, 100].
int GoldsteinTenths(const v1::Event& event);

}  // namespace annals::services

#endif  // ANNALS_SERVICES_MODEL_GOLDSTEIN_H_
