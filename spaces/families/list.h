// The explicit list of model families (LAMMPS-style). Each entry X(id) names a family defined in
// spaces/families/<id>.cpp as `const Family& family_<id>()` (LibTorch-free) and its forward pass
// as `const ModelBuilder& builder_<id>()` in spaces/families/*_model.cpp (LibTorch). Adding a
// family means adding those two definitions and one line here; the order is the order of
// `zerolm list` and of the space registry.
#define ZEROLM_FAMILIES(X) \
  X(flexibert)             \
  X(gpt2_lts)              \
  X(gpt)                   \
  X(llama)
