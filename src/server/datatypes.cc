// KServe v2 datatype names and Triton's config enum, both ways.
#include <array>
#include <utility>

#include "server/inference_server.h"

namespace supernova::server {
namespace {

struct TypeRow {
  DataType dtype;
  std::string_view v2;
  inference::DataType config;
};
constexpr std::array<TypeRow, 14> kTypes = {{
    {DataType::kBool, "BOOL", inference::TYPE_BOOL},
    {DataType::kUint8, "UINT8", inference::TYPE_UINT8},
    {DataType::kUint16, "UINT16", inference::TYPE_UINT16},
    {DataType::kUint32, "UINT32", inference::TYPE_UINT32},
    {DataType::kUint64, "UINT64", inference::TYPE_UINT64},
    {DataType::kInt8, "INT8", inference::TYPE_INT8},
    {DataType::kInt16, "INT16", inference::TYPE_INT16},
    {DataType::kInt32, "INT32", inference::TYPE_INT32},
    {DataType::kInt64, "INT64", inference::TYPE_INT64},
    {DataType::kFloat16, "FP16", inference::TYPE_FP16},
    {DataType::kFloat32, "FP32", inference::TYPE_FP32},
    {DataType::kFloat64, "FP64", inference::TYPE_FP64},
    {DataType::kBFloat16, "BF16", inference::TYPE_BF16},
    {DataType::kString, "BYTES", inference::TYPE_STRING},  // server/bytes.h
}};

}  // namespace

std::string_view DataTypeToV2(DataType dtype) {
  for (const TypeRow& row : kTypes)
    if (row.dtype == dtype) return row.v2;
  return "INVALID";
}

std::optional<DataType> DataTypeFromV2(std::string_view name) {
  for (const TypeRow& row : kTypes)
    if (row.v2 == name) return row.dtype;
  return std::nullopt;
}

inference::DataType DataTypeToConfig(DataType dtype) {
  for (const TypeRow& row : kTypes)
    if (row.dtype == dtype) return row.config;
  return inference::TYPE_INVALID;
}

std::optional<DataType> DataTypeFromConfig(inference::DataType dtype) {
  for (const TypeRow& row : kTypes)
    if (row.config == dtype) return row.dtype;
  return std::nullopt;
}

}  // namespace supernova::server
