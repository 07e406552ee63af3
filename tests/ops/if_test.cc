// If: the expected values are worked out by hand from the branches' arithmetic.
#include <gmock/gmock.h>

#include "ops/body_builder.h"
#include "test_util.h"

namespace supernova::testing {
namespace {

// then: x + 1 (x read from the enclosing graph); else: a constant of another shape.
struct Branches {
  std::shared_ptr<ir::Graph> then_branch, else_branch;
  Branches() {
    BodyBuilder t;
    t.Const("one", Floats({1}, {1}));
    t.Node("Add", {"x", "one"}, {"then_out"});
    t.Out("then_out", DataType::kFloat32, Shape{2});
    then_branch = t.graph();
    BodyBuilder e;
    e.Const("else_out", Floats({7, 8, 9}, {3}));
    e.Out("else_out", DataType::kFloat32, Shape{3});
    else_branch = e.graph();
  }
};

TEST(If, ReturnsTheChosenBranchWhateverItsShape) {
  Branches b;
  for (bool cond : {true, false}) {
    auto out = OpTest("If", 16)
                   .Attr("then_branch", b.then_branch)
                   .Attr("else_branch", b.else_branch)
                   .Input("cond", Bool(cond))
                   .Input("x", Floats({1.5f, -2}, {2}))
                   .Run();
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    ASSERT_EQ(out->size(), 1u);
    if (cond)
      EXPECT_TRUE(TensorsNear(Floats({2.5f, -1}, {2}), (*out)[0]));
    else
      EXPECT_TRUE(TensorsNear(Floats({7, 8, 9}, {3}), (*out)[0]));
  }
}

TEST(If, BranchMayReturnAnOuterValueAsIs) {
  BodyBuilder t;
  t.Out("x", DataType::kFloat32, Shape{2});
  BodyBuilder e;
  e.Node("Neg", {"x"}, {"neg"});
  e.Out("neg", DataType::kFloat32, Shape{2});
  for (bool cond : {true, false}) {
    auto out = OpTest("If", 11)
                   .Attr("then_branch", t.graph())
                   .Attr("else_branch", e.graph())
                   .Input("cond", Bool(cond))
                   .Input("x", Floats({3, 4}, {2}))
                   .Run();
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_TRUE(TensorsNear(cond ? Floats({3, 4}, {2}) : Floats({-3, -4}, {2}), (*out)[0]));
  }
}

TEST(If, RejectsACondThatIsNotOneBool) {
  Branches b;
  auto out = OpTest("If", 16)
                 .Attr("then_branch", b.then_branch)
                 .Attr("else_branch", b.else_branch)
                 .Input("cond", Floats({1}, {}))
                 .Input("x", Floats({1, 2}, {2}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("If 'node': cond must be one bool"));
}

TEST(If, RejectsABranchWithTheWrongNumberOfOutputs) {
  Branches b;
  auto out = OpTest("If", 16)
                 .Attr("then_branch", b.then_branch)
                 .Attr("else_branch", b.else_branch)
                 .Input("cond", Bool(true))
                 .Input("x", Floats({1, 2}, {2}))
                 .Outputs(2)
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("returns 1 values for 2 outputs"));
}

TEST(If, AnErrorInTheBranchNamesTheNodeTheBranchAndTheInnerNode) {
  BodyBuilder t;
  t.Const("three", Floats({1, 2, 3}, {3}));
  t.Node("Add", {"x", "three"}, {"then_out"}, "bad_add");
  t.Out("then_out", DataType::kFloat32, std::nullopt);
  Branches b;
  auto out = OpTest("If", 16)
                 .Attr("then_branch", t.graph())
                 .Attr("else_branch", b.else_branch)
                 .Input("cond", Bool(true))
                 .Input("x", Floats({1, 2}, {2}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("If 'node': then_branch: "));
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("Add 'bad_add'"));
}

TEST(If, MissingBranchIsAnError) {
  Branches b;
  auto out = OpTest("If", 16)
                 .Attr("then_branch", b.then_branch)
                 .Input("cond", Bool(false))
                 .Input("x", Floats({1, 2}, {2}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(),
              ::testing::HasSubstr("attribute 'else_branch' must be a graph"));
}

}  // namespace
}  // namespace supernova::testing
