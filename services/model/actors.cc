// The actor registry. See services/model/actors.h.
#include "services/model/actors.h"

#include <iterator>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "services/model/validation.h"

namespace annals::services {
namespace {

// Every officially assigned ISO 3166-1 alpha-3 code (249), sorted. Checked
// against Debian's iso-codes (/usr/share/iso-codes/json/iso_3166-1.json).
constexpr absl::string_view kCountryCodes[] = {
    "ABW", "AFG", "AGO", "AIA", "ALA", "ALB", "AND", "ARE", "ARG", "ARM",
    "ASM", "ATA", "ATF", "ATG", "AUS", "AUT", "AZE",  //
    "BDI", "BEL", "BEN", "BES", "BFA", "BGD", "BGR", "BHR", "BHS", "BIH",
    "BLM", "BLR", "BLZ", "BMU", "BOL", "BRA", "BRB", "BRN", "BTN", "BVT",
    "BWA",  //
    "CAF", "CAN", "CCK", "CHE", "CHL", "CHN", "CIV", "CMR", "COD", "COG",
    "COK", "COL", "COM", "CPV", "CRI", "CUB", "CUW", "CXR", "CYM", "CYP",
    "CZE",                                            //
    "DEU", "DJI", "DMA", "DNK", "DOM", "DZA",         //
    "ECU", "EGY", "ERI", "ESH", "ESP", "EST", "ETH",  //
    "FIN", "FJI", "FLK", "FRA", "FRO", "FSM",         //
    "GAB", "GBR", "GEO", "GGY", "GHA", "GIB", "GIN", "GLP", "GMB", "GNB",
    "GNQ", "GRC", "GRD", "GRL", "GTM", "GUF", "GUM", "GUY",  //
    "HKG", "HMD", "HND", "HRV", "HTI", "HUN",                //
    "IDN", "IMN", "IND", "IOT", "IRL", "IRN", "IRQ", "ISL", "ISR", "ITA",
    "JAM", "JEY", "JOR", "JPN",  //
    "KAZ", "KEN", "KGZ", "KHM", "KIR", "KNA", "KOR", "KWT",  //
    "LAO", "LBN", "LBR", "LBY", "LCA", "LIE", "LKA", "LSO", "LTU", "LUX",
    "LVA",  //
    "MAC", "MAF", "MAR", "MCO", "MDA", "MDG", "MDV", "MEX", "MHL", "MKD",
    "MLI", "MLT", "MMR", "MNE", "MNG", "MNP", "MOZ", "MRT", "MSR", "MTQ",
    "MUS", "MWI", "MYS", "MYT",  //
    "NAM", "NCL", "NER", "NFK", "NGA", "NIC", "NIU", "NLD", "NOR", "NPL",
    "NRU", "NZL",  //
    "OMN",         //
    "PAK", "PAN", "PCN", "PER", "PHL", "PLW", "PNG", "POL", "PRI", "PRK",
    "PRT", "PRY", "PSE", "PYF",  //
    "QAT",                       //
    "REU", "ROU", "RUS", "RWA",  //
    "SAU", "SDN", "SEN", "SGP", "SGS", "SHN", "SJM", "SLB", "SLE", "SLV",
    "SMR", "SOM", "SPM", "SRB", "SSD", "STP", "SUR", "SVK", "SVN", "SWE",
    "SWZ", "SXM", "SYC", "SYR",  //
    "TCA", "TCD", "TGO", "THA", "TJK", "TKL", "TKM", "TLS", "TON", "TTO",
    "TUN", "TUR", "TUV", "TWN", "TZA",  //
    "UGA", "UKR", "UMI", "URY", "USA", "UZB",  //
    "VAT", "VCT", "VEN", "VGB", "VIR", "VNM", "VUT",  //
    "WLF", "WSM",  //
    "YEM",         //
    "ZAF", "ZMB", "ZWE",
};
static_assert(sizeof(kCountryCodes) / sizeof(kCountryCodes[0]) ==
              kCountryCodeCount);

// User-assigned codes in wide use, accepted as countries.
constexpr absl::string_view kUserAssignedCountryCodes[] = {
    "XKX",  // Kosovo
};

constexpr absl::string_view kOrganisationCodes[] = {
    "UN",      // United Nations
    "UNGA",    // UN General Assembly
    "UNSC",    // UN Security Council
    "UNHRC",   // UN Human Rights Council (since 2006)
    "UNCHR",   // UN Commission on Human Rights (1946-2006)
    "OHCHR",   // Office of the UN High Commissioner for Human Rights
    "UNICEF",  // UN Children's Fund
    "WFP",     // World Food Programme
    "IAEA",    // International Atomic Energy Agency
    "ICRC",    // International Committee of the Red Cross
    "EU",      // European Union
    "ASEAN",   // Association of Southeast Asian Nations
    "AU",      // African Union
    "NATO",    // North Atlantic Treaty Organization
    "G7",      // Group of Seven
    "G20",     // Group of Twenty
    "OSCE",    // Organization for Security and Co-operation in Europe
    "WHO",     // World Health Organization
    "ICC",     // International Criminal Court
    "ICJ",     // International Court of Justice
    "IMF",     // International Monetary Fund
    "WB",      // World Bank
    "WTO",     // World Trade Organization
    "OAS",     // Organization of American States
    "OPCW",    // Organisation for the Prohibition of Chemical Weapons
    "SCO",     // Shanghai Cooperation Organisation
    "APEC",    // Asia-Pacific Economic Cooperation
    "ARF",     // ASEAN Regional Forum
};

const absl::flat_hash_set<absl::string_view>& CountrySet() {
  static const auto* const set = [] {
    auto* s = new absl::flat_hash_set<absl::string_view>(
        std::begin(kCountryCodes), std::end(kCountryCodes));
    s->insert(std::begin(kUserAssignedCountryCodes),
              std::end(kUserAssignedCountryCodes));
    return s;
  }();
  return *set;
}

const absl::flat_hash_set<absl::string_view>& OrganisationSet() {
  static const auto* const set = new absl::flat_hash_set<absl::string_view>(
      std::begin(kOrganisationCodes), std::end(kOrganisationCodes));
  return *set;
}

}  // namespace

bool IsCountryCode(absl::string_view code) {
  return CountrySet().contains(code);
}

bool IsOrganisation(absl::string_view code) {
  return OrganisationSet().contains(code);
}

bool IsKnownActor(absl::string_view code) {
  return IsCountryCode(code) || IsOrganisation(code);
}

}  // namespace annals::services
