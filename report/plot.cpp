#include "report/plot.h"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "report/table.h"

namespace zerolm {

void gnuplot_png(const std::string& png, const std::string& data, const std::string& commands,
                 const std::string& size) {
  write_file_atomic(png + ".dat", data);
  // gnuplot writes to a temporary, renamed into place once complete.
  write_file_atomic(png + ".gp", "set terminal pngcairo noenhanced size " + size +
                                     " font 'sans,11'\nset output '" + png + ".tmp'\n" + commands);
  const std::string cmd = "gnuplot '" + png + ".gp'";
  if (std::system(cmd.c_str()) != 0 || std::rename((png + ".tmp").c_str(), png.c_str()) != 0)
    throw std::runtime_error("plotting failed: `" + cmd + "` (is gnuplot-nox installed?)");
}

}  // namespace zerolm
