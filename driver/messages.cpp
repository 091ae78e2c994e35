#include "driver/messages.h"

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <sstream>
#include "driver/serialization.h"

namespace boost::serialization {

template <class Ar>
void serialize(Ar& ar, zerolm::Record& r, unsigned) {
  ar& r.index& r.encoding& r.status& r.score& r.parts& r.params& r.rank& r.device& r.start& r.end& r
      .reason;
}

template <class Ar>
void serialize(Ar& ar, zerolm::WorkMessage& m, unsigned) {
  ar& m.candidates;
}

template <class Ar>
void serialize(Ar& ar, zerolm::ResultMessage& m, unsigned) {
  ar& m.stop_requested& m.records;
}

}  // namespace boost::serialization

namespace zerolm {

const char* status_name(Status s) {
  switch (s) {
    case Status::Ok:
      return "ok";
    case Status::Failed:
      return "failed";
    case Status::Preempted:
      return "preempted";
  }
  return "?";
}

namespace {

// No archive header: both ends are the same binary, and it saves bytes on tiny messages.
constexpr unsigned kFlags = boost::archive::no_header;

template <class T>
std::string pack_any(const T& m) {
  std::ostringstream out;
  {
    boost::archive::binary_oarchive ar(out, kFlags);
    ar << m;
  }
  return out.str();
}

template <class T>
T unpack_any(const std::string& bytes) {
  std::istringstream in(bytes);
  boost::archive::binary_iarchive ar(in, kFlags);
  T m;
  ar >> m;
  return m;
}

}  // namespace

std::string pack(const WorkMessage& m) {
  return pack_any(m);
}
std::string pack(const ResultMessage& m) {
  return pack_any(m);
}
WorkMessage unpack_work(const std::string& bytes) {
  return unpack_any<WorkMessage>(bytes);
}
ResultMessage unpack_results(const std::string& bytes) {
  return unpack_any<ResultMessage>(bytes);
}

}  // namespace zerolm
