// Goldstein scores: the CAMEO table, its fallbacks, and the kind defaults.
#include "services/model/goldstein.h"

#include "gtest/gtest.h"
#include "tests/model/builders.h"

namespace annals::services {
namespace {

using ::annals::testing::When;

TEST(CameoGoldstein, LooksUpRootAndThreeAndFourDigitCodes) {
  EXPECT_EQ(CameoGoldsteinTenths("01"), 0);
  EXPECT_EQ(CameoGoldsteinTenths("036"), 40);   // Express intent to meet.
  EXPECT_EQ(CameoGoldsteinTenths("042"), 19);   // Make a visit.
  EXPECT_EQ(CameoGoldsteinTenths("057"), 80);   // Sign formal agreement.
  EXPECT_EQ(CameoGoldsteinTenths("0874"), 100); // Differs from 087 (+9.0).
  EXPECT_EQ(CameoGoldsteinTenths("130"), -44);  // Differs from root 13.
  EXPECT_EQ(CameoGoldsteinTenths("13"), -60);
  EXPECT_EQ(CameoGoldsteinTenths("163"), -65);  // Impose embargo/sanctions.
  EXPECT_EQ(CameoGoldsteinTenths("1823"), -100);
  EXPECT_EQ(CameoGoldsteinTenths("20"), -100);
}

TEST(CameoGoldstein, EveryRootCodeScores) {
  const char* roots[] = {"01", "02", "03", "04", "05", "06", "07",
                         "08", "09", "10", "11", "12", "13", "14",
                         "15", "16", "17", "18", "19", "20"};
  for (const char* root : roots) {
    const int tenths = CameoGoldsteinTenths(root);
    EXPECT_NE(tenths, kNoGoldstein) << root;
    EXPECT_GE(tenths, kMinGoldsteinTenths) << root;
    EXPECT_LE(tenths, kMaxGoldsteinTenths) << root;
  }
}

TEST(CameoGoldstein, LeadingZerosAreSignificant) {
  EXPECT_EQ(CameoGoldsteinTenths("036"), 40);
  // "36" is no CAMEO code (roots are 01-20), not "036" without its zero.
  EXPECT_EQ(CameoGoldsteinTenths("36"), kNoGoldstein);
  // "04" is Consult (+1.0); "4" is not a code at all.
  EXPECT_EQ(CameoGoldsteinTenths("04"), 10);
  EXPECT_EQ(CameoGoldsteinTenths("4"), kNoGoldstein);
}

TEST(CameoGoldstein, FallsBackToParentThenRoot) {
  EXPECT_EQ(CameoGoldsteinTenths("0369"), 40);   // -> 036
  EXPECT_EQ(CameoGoldsteinTenths("1824"), -95);  // -> 182, not 18 (-9.0)
  EXPECT_EQ(CameoGoldsteinTenths("099"), -20);   // -> 09
  EXPECT_EQ(CameoGoldsteinTenths("0999"), -20);  // -> 099 -> 09
  EXPECT_EQ(CameoGoldsteinTenths("1399"), -70);  // -> 139, not 13 (-6.0)
}

TEST(CameoGoldstein, UnknownOrMalformedCodesDoNotScore) {
  EXPECT_EQ(CameoGoldsteinTenths(""), kNoGoldstein);
  EXPECT_EQ(CameoGoldsteinTenths("21"), kNoGoldstein);
  EXPECT_EQ(CameoGoldsteinTenths("2999"), kNoGoldstein);
  EXPECT_EQ(CameoGoldsteinTenths("00"), kNoGoldstein);
  EXPECT_EQ(CameoGoldsteinTenths("03a"), kNoGoldstein);
  EXPECT_EQ(CameoGoldsteinTenths("03611"), kNoGoldstein);
}

TEST(GoldsteinTenths, CodeWinsOverKindDefault) {
  v1::Event e = testing::Sanction("s", When{2016, 2, 10},
                                  v1::Sanction::ACTION_IMPOSED, {"ban"});
  EXPECT_EQ(GoldsteinTenths(e), -80);  // Default for an imposed sanction.
  e.set_cameo_code("163");
  EXPECT_EQ(GoldsteinTenths(e), -65);
  e.set_cameo_code("36");  // Not a code: the kind default again.
  EXPECT_EQ(GoldsteinTenths(e), -80);
}

TEST(GoldsteinTenths, KindDefaults) {
  using testing::When;
  const When w{2018, 6, 12};
  EXPECT_EQ(GoldsteinTenths(testing::Meeting("m1", w, v1::Meeting::LEVEL_LEADERS,
                                             "Sentosa",
                                             v1::Meeting::OUTCOME_AGREEMENT)),
            60);
  EXPECT_EQ(GoldsteinTenths(testing::Meeting("m2", w, v1::Meeting::LEVEL_LEADERS,
                                             "Hanoi",
                                             v1::Meeting::OUTCOME_NO_AGREEMENT)),
            10);
  EXPECT_EQ(GoldsteinTenths(testing::Meeting("m3", w, v1::Meeting::LEVEL_WORKING,
                                             "Beijing",
                                             v1::Meeting::OUTCOME_COLLAPSED)),
            -30);
  EXPECT_EQ(GoldsteinTenths(testing::Meeting("m4", w)), 25);
  EXPECT_EQ(GoldsteinTenths(testing::Agreement("a", w, "Declaration")), 80);
  EXPECT_EQ(GoldsteinTenths(testing::Resolution(
                "r1", w, v1::ResolutionAction::ACTION_ADOPTED, {"UNHRC"})),
            -20);
  EXPECT_EQ(GoldsteinTenths(testing::Resolution(
                "r2", w, v1::ResolutionAction::ACTION_DECLINED_TO_TABLE,
                {"JPN"})),
            10);
  EXPECT_EQ(GoldsteinTenths(testing::Resolution(
                "r3", w, v1::ResolutionAction::ACTION_VETOED, {"UNSC"})),
            0);
  EXPECT_EQ(GoldsteinTenths(testing::Statement(
                "s1", w, v1::Statement::STANCE_SUPPORTIVE)),
            30);
  EXPECT_EQ(GoldsteinTenths(testing::Statement(
                "s2", w, v1::Statement::STANCE_CONCILIATORY)),
            20);
  EXPECT_EQ(GoldsteinTenths(testing::Statement(
                "s3", w, v1::Statement::STANCE_NEUTRAL)),
            0);
  EXPECT_EQ(GoldsteinTenths(testing::Statement(
                "s4", w, v1::Statement::STANCE_CRITICAL)),
            -20);
  EXPECT_EQ(GoldsteinTenths(testing::Statement(
                "s5", w, v1::Statement::STANCE_HOSTILE)),
            -50);
  EXPECT_EQ(GoldsteinTenths(testing::Sanction(
                "x1", w, v1::Sanction::ACTION_EASED, {"ban"})),
            50);
  EXPECT_EQ(GoldsteinTenths(testing::Sanction(
                "x2", w, v1::Sanction::ACTION_LIFTED, {"ban"})),
            70);
  EXPECT_EQ(GoldsteinTenths(testing::Sanction(
                "x3", w, v1::Sanction::ACTION_EXTENDED, {"ban"})),
            -40);
  EXPECT_EQ(GoldsteinTenths(testing::Military(
                "y1", w, v1::MilitaryAction::TYPE_WEAPONS_TEST)),
            -70);
  EXPECT_EQ(GoldsteinTenths(testing::Military(
                "y2", w, v1::MilitaryAction::TYPE_USE_OF_FORCE)),
            -100);
  EXPECT_EQ(GoldsteinTenths(testing::Humanitarian(
                "h1", w, v1::HumanitarianDevelopment::TYPE_RETURN)),
            70);
  EXPECT_EQ(GoldsteinTenths(testing::Humanitarian(
                "h2", w, v1::HumanitarianDevelopment::TYPE_REPORT)),
            -20);
  EXPECT_EQ(GoldsteinTenths(testing::Policy(
                "p1", w, "Bluebook", v1::PolicyChange::DIRECTION_SOFTENING)),
            50);
  EXPECT_EQ(GoldsteinTenths(testing::Policy(
                "p2", w, "Bluebook", v1::PolicyChange::DIRECTION_HARDENING)),
            -40);
}

}  // namespace
}  // namespace annals::services
