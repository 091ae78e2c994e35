#include "farm/messages.h"

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <cstdlib>
#include <sstream>

#include "report/table.h"
#include "rundir/serialization.h"

namespace boost::serialization {

template <class Ar>
void serialize(Ar& ar, zerolm::Record& r, unsigned) {
  ar& r.index& r.encoding& r.status& r.score& r.parts& r.params& r.values& r.rank& r.device& r
      .start& r.end& r.reason;
}

template <class Ar>
void serialize(Ar& ar, zerolm::WorkMessage& m, unsigned) {
  ar& m.candidates;
}

template <class Ar>
void serialize(Ar& ar, zerolm::ResultMessage& m, unsigned) {
  ar& m.stop_requested& m.records;
}

template <class Ar>
void serialize(Ar& ar, zerolm::FinetuneWork& m, unsigned) {
  ar& m.index& m.encoding;
}

template <class Ar>
void serialize(Ar& ar, zerolm::FinetuneRow& r, unsigned) {
  ar& r.encoding& r.proxy_score& r.params& r.steps& r.tokens& r.train_loss& r.valid_loss& r
      .perplexity& r.wall_s& r.device& r.precision& r.status;
}

template <class Ar>
void serialize(Ar& ar, zerolm::FinetuneResult& m, unsigned) {
  ar& m.index& m.row;
}

template <class Ar>
void serialize(Ar& ar, zerolm::CorpusMessage& m, unsigned) {
  ar& m.train& m.valid& m.vocab_size& m.mask& m.regular& m.tokenizer;
}

}  // namespace boost::serialization

namespace zerolm {

// No archive header: both ends are the same binary, and it saves bytes on tiny messages.
constexpr unsigned kFlags = boost::archive::no_header;

template <class T>
std::string pack(const T& m) {
  std::ostringstream out;
  {
    boost::archive::binary_oarchive ar(out, kFlags);
    ar << m;
  }
  return out.str();
}

template <class T>
T unpack(const std::string& bytes) {
  std::istringstream in(bytes);
  boost::archive::binary_iarchive ar(in, kFlags);
  T m;
  ar >> m;
  return m;
}

#define ZEROLM_MESSAGE(T)                   \
  template std::string pack<T>(const T& m); \
  template T unpack<T>(const std::string& bytes);
ZEROLM_MESSAGE(WorkMessage)
ZEROLM_MESSAGE(ResultMessage)
ZEROLM_MESSAGE(FinetuneWork)
ZEROLM_MESSAGE(FinetuneResult)
ZEROLM_MESSAGE(CorpusMessage)
#undef ZEROLM_MESSAGE

}  // namespace zerolm
