// PNG plots through gnuplot (Debian's gnuplot-nox): the data and the script are kept next to the
// picture, so a user can restyle it, and the PNG appears only when gnuplot succeeded.
#pragma once

#include <string>

namespace zerolm {

// Writes `data` to png + ".dat" and `commands` (plot commands that may read png + ".dat") after a
// pngcairo terminal line to png + ".gp", runs gnuplot and renames its output to `png`. Throws
// std::runtime_error naming the command when gnuplot fails or is missing.
void gnuplot_png(const std::string& png, const std::string& data, const std::string& commands,
                 const std::string& size = "900,560");

}  // namespace zerolm
