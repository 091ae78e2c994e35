// Boost.Serialization of the search types shared by messages and checkpoints.
#pragma once

#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>

#include "search/strategy.h"

namespace boost::serialization {

template <class Ar>
void serialize(Ar& ar, zerolm::Candidate& c, unsigned) {
  ar& c.index& c.encoding;
}

}  // namespace boost::serialization
