// The reflection walk of validation (services/model/validation.h,
// CheckRequestFields): what a request holds beyond its schema, and control
// characters in the text of its events. It runs on every request before
// any other check, on the append path once per event; it renders a field's
// path only when the field is reported.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/unknown_field_set.h"
#include "proto/control_characters.h"
#include "services/model/validation.h"

namespace annals::services {
namespace {

using ::google::protobuf::Descriptor;
using ::google::protobuf::FieldDescriptor;
using ::google::protobuf::Message;
using ::google::protobuf::Reflection;
using ::google::protobuf::UnknownFieldSet;

// Where the walk is: the field of the parent message (null at the root) and
// its index when repeated (-1 otherwise). Lives on the walk's stack.
struct Path {
  const Path* parent;
  const FieldDescriptor* field;
  int index;
};

// "events[0].meeting"; the root message's type name for the root.
std::string Render(const Path* path, const Descriptor* root) {
  if (path == nullptr) return root->full_name();
  std::string out =
      path->parent == nullptr ? "" : Render(path->parent, root) + ".";
  absl::StrAppend(&out, path->field->name());
  if (path->index >= 0) absl::StrAppend(&out, "[", path->index, "]");
  return out;
}

class Walk {
 public:
  Walk(const Descriptor* root, std::vector<rpc::FieldViolation>* out)
      : root_(root), out_(out) {}

  // `in_event`: `message` is an annals.v1.Event or lies in one.
  void Visit(const Message& message, const Path* path, bool in_event) {
    const Reflection* reflection = message.GetReflection();
    const Descriptor* descriptor = message.GetDescriptor();
    in_event = in_event || descriptor == v1::Event::descriptor();
    const UnknownFieldSet& unknown = reflection->GetUnknownFields(message);
    for (int i = 0; i < unknown.field_count(); ++i) {
      out_->push_back({Render(path, root_),
                       absl::StrCat("unknown field ", unknown.field(i).number())});
    }
    for (int i = 0; i < descriptor->field_count(); ++i) {
      const FieldDescriptor* field = descriptor->field(i);
      const bool is_message =
          field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
      const bool is_text = in_event && field->type() == FieldDescriptor::TYPE_STRING;
      if (!is_message && !is_text) continue;
      if (field->is_repeated()) {
        const int size = reflection->FieldSize(message, field);
        for (int j = 0; j < size; ++j) {
          const Path element{path, field, j};
          if (is_message) {
            Visit(reflection->GetRepeatedMessage(message, field, j),
                          &element, in_event);
          } else {
            std::string scratch;
            Text(reflection->GetRepeatedStringReference(message, field, j,
                                                        &scratch),
                 &element);
          }
        }
      } else if (reflection->HasField(message, field)) {
        const Path child{path, field, -1};
        if (is_message) {
          Visit(reflection->GetMessage(message, field), &child,
                        in_event);
        } else {
          std::string scratch;
          Text(reflection->GetStringReference(message, field, &scratch),
               &child);
        }
      }
    }
  }

 private:
  void Text(absl::string_view text, const Path* path) {
    const int c = FirstControlCharacter(text);
    if (c < 0) return;
    out_->push_back(
        {Render(path, root_),
         absl::StrFormat("control character U+%04X is not allowed (only "
                         "newline and tab are)",
                         c)});
  }

  const Descriptor* const root_;
  std::vector<rpc::FieldViolation>* const out_;
};

}  // namespace

absl::Status CheckRequestFields(const google::protobuf::Message& request) {
  std::vector<rpc::FieldViolation> violations;
  Walk(request.GetDescriptor(), &violations)
      .Visit(request, nullptr, /*in_event=*/false);
  if (violations.empty()) return absl::OkStatus();
  return rpc::InvalidArgument(violations);
}

}  // namespace annals::services
