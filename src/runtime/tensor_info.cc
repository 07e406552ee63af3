#include "runtime/tensor_info.h"

namespace supernova::runtime {

TensorInfo DescribeValue(const ir::Graph& g, const std::string& name) {
  TensorInfo info;
  info.name = name;
  if (const ir::ValueType* t = g.TypeOf(name)) {
    info.dtype = t->dtype;
    info.kind = t->kind;
    if (t->dims) {
      info.rank_known = true;
      for (const ir::Dim& d : *t->dims) {
        info.dims.push_back(d.value);
        info.symbols.push_back(d.symbol);
      }
    }
  }
  return info;
}

}  // namespace supernova::runtime
