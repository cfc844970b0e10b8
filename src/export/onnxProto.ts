import protobuf from 'protobufjs';

/**
 * The ONNX file format, encoded with protobufjs. The schema is the part of onnx.proto
 * (ONNX's own definition, IR version 7 and later) that dlt writes, with its field
 * numbers: a model is a graph of nodes over named tensors, the weights stored as
 * initializers, plus the opset it targets and free-form metadata.
 */
const SCHEMA = `
syntax = "proto3";
package onnx;

message ModelProto {
  int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  string producer_name = 2;
  string producer_version = 3;
  string doc_string = 6;
  GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}

message OperatorSetIdProto {
  string domain = 1;
  int64 version = 2;
}

message StringStringEntryProto {
  string key = 1;
  string value = 2;
}

message GraphProto {
  repeated NodeProto node = 1;
  string name = 2;
  repeated TensorProto initializer = 5;
  string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  string name = 3;
  string op_type = 4;
  repeated AttributeProto attribute = 5;
}

message AttributeProto {
  string name = 1;
  int32 type = 20;
  float f = 2;
  int64 i = 3;
  repeated float floats = 7;
  repeated int64 ints = 8;
}

message TensorProto {
  repeated int64 dims = 1;
  int32 data_type = 2;
  string name = 8;
  bytes raw_data = 9;
}

message ValueInfoProto {
  string name = 1;
  TypeProto type = 2;
}

message TypeProto {
  message Tensor {
    int32 elem_type = 1;
    TensorShapeProto shape = 2;
  }
  Tensor tensor_type = 1;
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
  }
  repeated Dimension dim = 1;
}
`;

const ModelMessage = protobuf.parse(SCHEMA, { keepCase: true }).root.lookupType('onnx.ModelProto');

/** TensorProto.DataType values dlt uses. */
export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;

/** AttributeProto.AttributeType values dlt uses. */
export const ATTRIBUTE_FLOAT = 1;
export const ATTRIBUTE_INT = 2;
export const ATTRIBUTE_INTS = 7;

/** A model as plain objects keyed by the schema's field names; see onnxModel.ts. */
export function encodeModel(model: Record<string, unknown>): Uint8Array {
  const message = ModelMessage.fromObject(model);
  const problem = ModelMessage.verify(message);
  if (problem) throw new Error(`dlt built an invalid ONNX model: ${problem}`);
  return ModelMessage.encode(message).finish();
}
