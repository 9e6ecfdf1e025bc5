#include <gtest/gtest.h>

#include "tensor/tensor.h"

namespace lmaas {
namespace {

Tensor arange(int64_t n, const Shape& shape) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(i);
  return Tensor::from_vector(v, shape);
}

TEST(Tensor, StorageIsAligned) {
  for (int64_t n : {1, 3, 17, 1000}) {
    Tensor t = Tensor::empty({n});
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % 64, 0u);
  }
}

TEST(Tensor, CopiesAliasCloneDeepCopies) {
  Tensor a = arange(6, {2, 3});
  Tensor b = a;
  Tensor c = a.clone();
  a.data<float>()[0] = 42.0f;
  EXPECT_EQ(b.data<float>()[0], 42.0f);
  EXPECT_EQ(c.data<float>()[0], 0.0f);
}

TEST(Tensor, TransposeIsAViewWithSwappedStrides) {
  Tensor a = arange(6, {2, 3});
  Tensor t = a.transpose(0, 1);
  EXPECT_EQ(t.shape(), (Shape{3, 2}));
  EXPECT_EQ(t.strides(), (Shape{1, 3}));
  EXPECT_FALSE(t.is_contiguous());
  EXPECT_EQ(t.storage(), a.storage());
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(t.contiguous().to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
}

TEST(Tensor, SliceSelectAndStep) {
  Tensor a = arange(12, {3, 4});
  EXPECT_EQ(a.slice(1, 1, 3).to_vector<float>(), (std::vector<float>{1, 2, 5, 6, 9, 10}));
  EXPECT_EQ(a.slice(1, 0, 4, 2).to_vector<float>(), (std::vector<float>{0, 2, 4, 6, 8, 10}));
  EXPECT_EQ(a.select(0, -1).to_vector<float>(), (std::vector<float>{8, 9, 10, 11}));
  a.select(1, 0).fill(-1.0);
  EXPECT_EQ(a.to_vector<float>()[4], -1.0f);
}

TEST(Tensor, ViewInfersAndRejects) {
  Tensor a = arange(12, {3, 4});
  EXPECT_EQ(a.view({2, -1}).shape(), (Shape{2, 6}));
  EXPECT_THROW(a.view({5, -1}), Error);
  EXPECT_THROW(a.transpose(0, 1).view({12}), Error);
  EXPECT_EQ(a.transpose(0, 1).reshape({12}).to_vector<float>()[1], 4.0f);
}

TEST(Tensor, ExpandUsesZeroStrides) {
  Tensor a = arange(3, {3});
  Tensor e = a.expand({2, 3});
  EXPECT_EQ(e.strides(), (Shape{0, 1}));
  EXPECT_EQ(e.to_vector<float>(), (std::vector<float>{0, 1, 2, 0, 1, 2}));
  EXPECT_THROW(arange(2, {2}).expand({2, 3}), Error);
}

TEST(Tensor, DtypeConversionAndChecks) {
  Tensor a = arange(4, {4});
  Tensor d = a.to(DType::kF64);
  EXPECT_EQ(d.dtype(), DType::kF64);
  EXPECT_EQ(d.to_vector<double>()[3], 3.0);
  EXPECT_THROW(a.data<double>(), Error);
  Tensor bf = Tensor::full({2}, 1.5, DType::kBF16);
  EXPECT_EQ(bf.to_vector<float>()[1], 1.5f);
}

TEST(Tensor, BroadcastShapes) {
  EXPECT_EQ(broadcast_shapes({3, 1, 4}, {2, 4}), (Shape{3, 2, 4}));
  EXPECT_THROW(broadcast_shapes({3, 2}, {4}), Error);
}

}  // namespace
}  // namespace lmaas
