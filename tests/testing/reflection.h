// gRPC server reflection asked by tests, read without the reflection protos
// (v1 and v1alpha have the same messages):
//   ServerReflectionRequest   file_containing_symbol = 4, list_services = 7
//   ServerReflectionResponse  file_descriptor_response = 4
//                               {repeated bytes file_descriptor_proto = 1},
//                             list_services_response = 6
//                               {repeated ServiceResponse{name = 1} = 1}
#ifndef ANNALS_TESTS_TESTING_REFLECTION_H_
#define ANNALS_TESTS_TESTING_REFLECTION_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/unknown_field_set.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"

namespace annals::testing {

inline constexpr char kReflectionV1alpha[] =
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";
inline constexpr char kReflectionV1[] =
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";

// The answer to `request` (a serialized ServerReflectionRequest) on a new
// stream of the reflection `method`; "" when none came, and then
// `*status` (when given) says why.
inline std::string AskReflection(const std::shared_ptr<grpc::Channel>& channel,
                                 const std::string& method,
                                 const std::string& request,
                                 grpc::Status* status = nullptr) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(&context, method, &cq);
  void* tag;
  bool ok = false;
  call->StartCall(&cq);
  cq.Next(&tag, &ok);
  grpc::Slice slice(request);
  grpc::ByteBuffer buffer(&slice, 1);
  call->WriteLast(buffer, grpc::WriteOptions(), &cq);  // one request only
  cq.Next(&tag, &ok);
  grpc::ByteBuffer response;
  call->Read(&response, &cq);
  cq.Next(&tag, &ok);
  std::string answer;
  std::vector<grpc::Slice> slices;
  if (ok && response.Dump(&slices).ok()) {
    for (const grpc::Slice& s : slices) {
      answer.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
  }
  grpc::Status finished;
  call->Finish(&finished, &cq);
  cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  if (status != nullptr) *status = finished;
  return answer;
}

// A ServerReflectionRequest with the string `value` in field `number`.
inline std::string ReflectionRequest(int number, const std::string& value) {
  google::protobuf::UnknownFieldSet request;
  request.AddLengthDelimited(number, value);
  std::string bytes;
  request.SerializeToString(&bytes);
  return bytes;
}

// The length-delimited values of field `number` in `message`.
inline std::vector<std::string> FieldValues(const std::string& message,
                                            int number) {
  google::protobuf::UnknownFieldSet fields;
  std::vector<std::string> values;
  if (!fields.ParseFromString(message)) return values;
  for (int i = 0; i < fields.field_count(); ++i) {
    if (fields.field(i).number() == number &&
        fields.field(i).type() ==
            google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED) {
      values.push_back(fields.field(i).length_delimited());
    }
  }
  return values;
}

// The services the server lists (list_services).
inline std::vector<std::string> ReflectedServices(
    const std::shared_ptr<grpc::Channel>& channel,
    const std::string& method = kReflectionV1alpha) {
  std::vector<std::string> services;
  for (const std::string& list :
       FieldValues(AskReflection(channel, method, ReflectionRequest(7, "")), 6)) {
    for (const std::string& service : FieldValues(list, 1)) {
      for (std::string& name : FieldValues(service, 1)) {
        services.push_back(std::move(name));
      }
    }
  }
  return services;
}

// The files answering file_containing_symbol `symbol`: the one declaring
// it first, then those it imports. Empty when the answer is an error.
inline std::vector<google::protobuf::FileDescriptorProto> FilesContainingSymbol(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
    const std::string& symbol) {
  std::vector<google::protobuf::FileDescriptorProto> files;
  for (const std::string& answer : FieldValues(
           AskReflection(channel, method, ReflectionRequest(4, symbol)), 4)) {
    for (const std::string& bytes : FieldValues(answer, 1)) {
      files.emplace_back();
      if (!files.back().ParseFromString(bytes)) files.pop_back();
    }
  }
  return files;
}

}  // namespace annals::testing

#endif  // ANNALS_TESTS_TESTING_REFLECTION_H_
