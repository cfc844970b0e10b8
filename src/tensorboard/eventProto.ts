import protobuf from 'protobufjs';

/**
 * The messages of a TensorBoard event file, encoded with protobufjs. The schema is the
 * part of TensorFlow's event.proto, summary.proto, tensor.proto and tensor_shape.proto
 * that dlt writes, with their field numbers: an Event is a wall time, a step and either
 * the file version (the first event of a file) or a Summary of tagged values.
 */
const SCHEMA = `
syntax = "proto3";
package tensorboard;

message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    Summary summary = 5;
  }
}

message Summary {
  message Value {
    string tag = 1;
    SummaryMetadata metadata = 9;
    oneof value {
      float simple_value = 2;
      TensorProto tensor = 8;
    }
  }
  repeated Value value = 1;
}

message SummaryMetadata {
  message PluginData {
    string plugin_name = 1;
    bytes content = 2;
  }
  PluginData plugin_data = 1;
}

message TensorProto {
  int32 dtype = 1;
  TensorShapeProto tensor_shape = 2;
  repeated bytes string_val = 8;
}

message TensorShapeProto {
  message Dim {
    int64 size = 1;
  }
  repeated Dim dim = 2;
}
`;

const EventMessage = protobuf.parse(SCHEMA, { keepCase: true }).root.lookupType('tensorboard.Event');

/** TensorFlow's DataType DT_STRING. */
const DT_STRING = 7;

/** The first event of every file: which version of the format follows. */
export function fileVersionEvent(wallTime: number): Uint8Array {
  return encode({ wall_time: wallTime, step: 0, file_version: 'brain.Event:2' });
}

/** Scalars at one step, each a `simple_value` under its tag (TensorBoard's Scalars tab). */
export function scalarEvent(wallTime: number, step: number, scalars: readonly { tag: string; value: number }[]): Uint8Array {
  return encode({ wall_time: wallTime, step, summary: { value: scalars.map(({ tag, value }) => ({ tag, simple_value: value })) } });
}

/** A line of text at one step, for the Text tab: a string tensor marked for the text plugin. */
export function textEvent(wallTime: number, step: number, tag: string, text: string): Uint8Array {
  return encode({
    wall_time: wallTime,
    step,
    summary: {
      value: [
        {
          tag,
          metadata: { plugin_data: { plugin_name: 'text' } },
          tensor: { dtype: DT_STRING, tensor_shape: {}, string_val: [Buffer.from(text, 'utf8')] },
        },
      ],
    },
  });
}

function encode(fields: Record<string, unknown>): Uint8Array {
  return EventMessage.encode(EventMessage.fromObject(fields)).finish();
}
