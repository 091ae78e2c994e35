// Marsaglia & Tsang's Ziggurat (J. Stat. Softw. 5(8), 2000) with 128 layers, fed by SplitMix64
// (the generator of Java's SplittableRandom, which passes BigCrush) instead of the original SHR3,
// whose weaknesses were the known defect of the 2000 version (Leong et al. 2005).
#include "spaces/gaussian.h"

#include <cmath>

#include "spaces/rng.h"

namespace zerolm {

namespace {

struct Tables {
  std::uint32_t kn[128];
  float wn[128];
  float fn[128];
  Tables() {
    const double m1 = 2147483648.0, vn = 9.91256303526217e-3;
    double dn = 3.442619855899, tn = dn;
    const double q = vn / std::exp(-0.5 * dn * dn);
    kn[0] = std::uint32_t((dn / q) * m1);
    kn[1] = 0;
    wn[0] = float(q / m1);
    wn[127] = float(dn / m1);
    fn[0] = 1.0f;
    fn[127] = float(std::exp(-0.5 * dn * dn));
    for (int i = 126; i >= 1; --i) {
      dn = std::sqrt(-2.0 * std::log(vn / dn + std::exp(-0.5 * dn * dn)));
      kn[i + 1] = std::uint32_t((dn / tn) * m1);
      tn = dn;
      fn[i] = float(std::exp(-0.5 * dn * dn));
      wn[i] = float(dn / m1);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

// Uniform in (0, 1): never 0, so its logarithm is finite.
float open_uniform(Rng& g) {
  return float(g.next() >> 40) * (1.0f / 16777216.0f) + (0.5f / 16777216.0f);
}

// The rare slow path: the wedges of a layer and the tail beyond r (about 1.2% of draws).
float slow_path(const Tables& t, Rng& g, std::int32_t hz, std::uint32_t iz) {
  const float r = 3.442620f;
  for (;;) {
    float x = float(hz) * t.wn[iz];
    if (iz == 0) {
      float y;
      do {
        x = -std::log(open_uniform(g)) * 0.2904764f;  // 1 / r
        y = -std::log(open_uniform(g));
      } while (y + y < x * x);
      return hz > 0 ? r + x : -r - x;
    }
    if (t.fn[iz] + open_uniform(g) * (t.fn[iz - 1] - t.fn[iz]) < std::exp(-0.5f * x * x)) return x;
    const auto u = std::uint32_t(g.next());
    hz = std::int32_t(u);
    iz = u & 127;
    if (std::uint32_t(std::abs(std::int64_t(hz))) < t.kn[iz]) return float(hz) * t.wn[iz];
  }
}

inline float standard_normal(const Tables& t, Rng& g, std::uint32_t u) {
  const auto hz = std::int32_t(u);
  const std::uint32_t iz = u & 127;
  if (std::uint32_t(std::abs(std::int64_t(hz))) < t.kn[iz]) return float(hz) * t.wn[iz];
  return slow_path(t, g, hz, iz);
}

}  // namespace

void fill_normal(float* p, std::int64_t n, float mean, float std, std::uint64_t seed) {
  const Tables& t = tables();
  Rng g(seed);
  std::int64_t i = 0;
  for (; i + 1 < n; i += 2) {  // one 64-bit draw feeds two normals
    const std::uint64_t r = g.next();
    p[i] = mean + std * standard_normal(t, g, std::uint32_t(r));
    p[i + 1] = mean + std * standard_normal(t, g, std::uint32_t(r >> 32));
  }
  if (i < n) p[i] = mean + std * standard_normal(t, g, std::uint32_t(g.next()));
}

}  // namespace zerolm
